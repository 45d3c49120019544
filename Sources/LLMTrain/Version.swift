/// The release of swift-llm-train, as `swift-llm-train --version` prints it.
public let swiftLLMTrainVersion = "0.3.0"
