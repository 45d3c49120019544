import XCTest
final class LLMCommTestsPlaceholder: XCTestCase { func testNothing() {} }
