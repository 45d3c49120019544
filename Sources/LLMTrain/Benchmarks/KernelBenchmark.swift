import CLLMKernels
import LLMModel
import LLMSupport

/// Per-kernel time of the elementwise kernels in every variant this CPU runs, on the shapes one
/// training step of a model uses, one thread. Variants are interleaved round by round (the same
/// machine noise hits each alike) and the best round is kept; a kernel's inputs are refreshed
/// before every timing, so in-place kernels always see the same data. Times are the thread's CPU
/// time, so on a shared machine another process holding the core is not counted.
public enum KernelBenchmark {
    public struct Row: Sendable {
        public var kernel: String
        public var shape: String
        /// Calls per training step (forward + backward + update).
        public var callsPerStep: Int
        /// Milliseconds per call, per variant (nil: the CPU lacks it).
        public var milliseconds: [KernelVariant: Double]

        public func scriptLine(_ variant: KernelVariant) -> String? {
            milliseconds[variant].map { "kernel=\(kernel) variant=\(variant) ms=\(format($0, 4))" }
        }
    }

    struct Case {
        let kernel: String, shape: String, callsPerStep: Int
        let buffers: [Int]            // float counts; buffer 0 is refreshed before each timing
        let run: ([UnsafeMutablePointer<Float>], UnsafePointer<Int32>) -> Void
    }

    public static func run(config: GPTConfig, batchSize: Int, sequenceLength: Int, rounds: Int = 15) -> [Row] {
        let rows = batchSize * sequenceLength, C = config.modelDim, V = config.vocabSize, L = config.layers
        let T = sequenceLength, pairs = batchSize * config.heads  // (batch, head) pairs
        let P = ParameterTensor.parameterCount(for: config)
        let blockRows = 32, blocks = (rows + blockRows - 1) / blockRows
        let hidden = rows * 4 * C, hiddenShape = "\(rows)x\(4 * C)"
        let cases = [
            // The forward pass forms the output alone but for the last block; the backward
            // recomputes each block's output with the derivative.
            Case(kernel: "gelu_forward", shape: hiddenShape, callsPerStep: L, buffers: [hidden, hidden, hidden]) { b, _ in
                llmk_gelu_forward(b[1], b[2], b[0], hidden)
            },
            Case(kernel: "gelu_forward_output_only", shape: hiddenShape, callsPerStep: L - 1, buffers: [hidden, hidden]) { b, _ in
                llmk_gelu_forward(b[1], nil, b[0], hidden)
            },
            Case(kernel: "gelu_backward", shape: hiddenShape, callsPerStep: L, buffers: [hidden, hidden, hidden]) { b, _ in
                llmk_multiply(b[1], b[2], b[0], hidden)
            },
            Case(kernel: "layernorm_forward", shape: "\(rows)x\(C)", callsPerStep: 2 * L + 1,
                 buffers: [rows * C, rows * C, rows, rows, C, C]) { b, _ in
                     llmk_layernorm_forward(b[1], b[2], b[3], b[0], b[4], b[5], rows, C, LayerNorm.eps)
                 },
            // dinp (buffer 0) is refreshed; the per-block partials just keep accumulating.
            Case(kernel: "layernorm_backward", shape: "\(rows)x\(C)", callsPerStep: 2 * L + 1,
                 buffers: [rows * C, 2 * C * blocks, rows * C, rows * C, C, rows, rows]) { b, _ in
                     for block in 0..<blocks {
                         let lo = block * blockRows, n = min(blockRows, rows - lo)
                         llmk_layernorm_backward(b[0] + lo * C, b[1] + block * 2 * C, b[1] + block * 2 * C + C,
                                                 b[2] + lo * C, b[3] + lo * C, b[4], b[5] + lo, b[6] + lo, n, C)
                     }
                 },
            Case(kernel: "softmax_xent_forward_backward", shape: "\(rows)x\(V)", callsPerStep: 1,
                 buffers: [rows * V, rows]) { b, t in
                llmk_softmax_xent_forward_backward(b[0], b[1], t, 1 / Float(rows), rows, V)
            },
            Case(kernel: "bias_residual_seed", shape: "\(rows)x\(C)", callsPerStep: 2 * L,
                 buffers: [rows * C, rows * C, C]) { b, _ in llmk_bias_seed(b[0], b[1], b[2], rows, C) },
            Case(kernel: "bias_gradient", shape: hiddenShape, callsPerStep: L, buffers: [4 * C, hidden]) { b, _ in
                llmk_column_sums_add(b[0], b[1], rows, 4 * C, 4 * C)
            },
            // One (batch, head)'s T x T scores, every query row to its causal reach: the forward's
            // softmax and the backward's recomputation, then the backward's softmax gradient.
            Case(kernel: "causal_softmax", shape: "\(T)x\(T)", callsPerStep: 2 * L * pairs,
                 buffers: [T * T, 2 * T]) { b, _ in llmk_causal_softmax(b[0], T, 0, T, T, b[1], 0) },
            Case(kernel: "causal_softmax_backward", shape: "\(T)x\(T)", callsPerStep: L * pairs,
                 buffers: [T * T, T * T]) { b, _ in llmk_causal_softmax_backward(b[0], b[1], T, 0, T, T, 0.125) },
            Case(kernel: "adamw", shape: "\(P)", callsPerStep: 1, buffers: [P, P, P, P]) { b, _ in
                llmk_adamw(b[0], b[1], b[2], b[3], P, 1, 0.9, 0.95, 1e-4, 1.2, 1e-8, 1e-5)
            },
            Case(kernel: "gradient_norm", shape: "\(P)", callsPerStep: 1, buffers: [P]) { b, _ in
                _ = llmk_dot(b[0], b[0], P)
            },
        ]
        var rng = SplitMix64(seed: 11)
        let targets = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
        defer { targets.deallocate() }
        for i in 0..<rows { targets[i] = Int32(rng.next() % UInt64(V)) }
        let variants = KernelVariant.allCases.filter(\.isSupported)
        let saved = Kernels.active
        defer { Kernels.select(saved) }
        return cases.map { c in
            let buffers = c.buffers.map { n -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
                // Positive for the v of AdamW and the rstd of LayerNorm; first touch outside the timing.
                rng.fillNormal(p, count: n, mean: 1, std: 0.1)
                return p
            }
            defer { buffers.forEach { $0.deallocate() } }
            let reference = UnsafeMutablePointer<Float>.allocate(capacity: c.buffers[0])
            defer { reference.deallocate() }
            reference.update(from: buffers[0], count: c.buffers[0])
            var best: [KernelVariant: Double] = [:]
            for _ in 0..<rounds {
                for v in variants {
                    Kernels.select(v)
                    buffers[0].update(from: reference, count: c.buffers[0])
                    let start = threadCPUSeconds()
                    c.run(buffers, targets)
                    let ms = (threadCPUSeconds() - start) * 1000
                    best[v] = min(best[v] ?? .infinity, ms)
                }
            }
            return Row(kernel: c.kernel, shape: c.shape, callsPerStep: c.callsPerStep, milliseconds: best)
        }
    }

    /// Markdown table: ms per call for each variant, the speed-up over portable, and the ms per
    /// training step (calls per step x ms) of each variant at the bottom.
    public static func table(_ rows: [Row]) -> String {
        let variants = KernelVariant.allCases.filter(\.isSupported)
        var lines = ["| kernel | shape | calls/step | " + variants.map { "\($0) ms" }.joined(separator: " | ")
                     + " | " + variants.dropFirst().map { "\($0) speed-up" }.joined(separator: " | ") + " |"]
        lines.append("|" + String(repeating: "---|", count: 3 + 2 * variants.count - 1))
        for row in rows {
            let ms = variants.map { row.milliseconds[$0] ?? .nan }
            lines.append("| \(row.kernel) | \(row.shape) | \(row.callsPerStep) | "
                         + ms.map { format($0, 3) }.joined(separator: " | ") + " | "
                         + ms.dropFirst().map { format(ms[0] / $0, 2) + "x" }.joined(separator: " | ") + " |")
        }
        let perStep = variants.map { v in
            rows.reduce(0) { $0 + Double($1.callsPerStep) * ($1.milliseconds[v] ?? .nan) }
        }
        lines.append("| per training step | | | " + perStep.map { format($0, 2) }.joined(separator: " | ") + " | "
                     + perStep.dropFirst().map { format(perStep[0] / $0, 2) + "x" }.joined(separator: " | ") + " |")
        return lines.joined(separator: "\n")
    }
}
