import XCTest
final class LLMTrainTestsPlaceholder: XCTestCase { func testNothing() {} }
