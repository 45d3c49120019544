import Foundation

/// Linear warm-up then cosine decay to a floor, as llm.c / nanoGPT. `step` is 0-based:
///   step < warmupSteps:          maxLR * (step + 1) / warmupSteps
///   warmupSteps <= step < total: minLR + 0.5 (1 + cos(pi r)) (maxLR - minLR), r = (step - warmup) / (total - warmup)
///   step >= totalSteps:          minLR
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var maxLR: Float
    public var minLR: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(maxLR: Float, minLR: Float, warmupSteps: Int, totalSteps: Int) {
        self.maxLR = maxLR
        self.minLR = minLR
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return maxLR * Float(step + 1) / Float(warmupSteps) }
        if step >= totalSteps { return minLR }
        let ratio = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        let coefficient = 0.5 * (1 + Foundation.cos(Double.pi * ratio))
        return minLR + Float(coefficient) * (maxLR - minLR)
    }
}
