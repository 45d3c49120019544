import LLMComm
import LLMModel
import LLMData
