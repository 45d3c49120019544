import XCTest
final class LLMDataTestsPlaceholder: XCTestCase { func testNothing() {} }
