import XCTest
final class LLMModelTestsPlaceholder: XCTestCase { func testNothing() {} }
