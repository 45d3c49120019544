import LLMTrain
print("swift-llm-train")
