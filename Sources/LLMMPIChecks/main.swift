import LLMComm
print("checks")
