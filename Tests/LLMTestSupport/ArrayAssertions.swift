import XCTest

// Assertions for large arrays: on failure they report how many elements differ and the first
// difference, never the arrays themselves (a failing comparison of two parameter buffers would
// otherwise print megabytes of numbers into the log).

/// Fails unless `a` and `b` have the same count and equal elements.
public func assertElementsEqual<T: Equatable>(_ a: [T], _ b: [T], _ what: String,
                                              file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == b.count else {
        return XCTFail("\(what): \(a.count) vs \(b.count) elements", file: file, line: line)
    }
    var differing = 0, first: Int?
    for i in a.indices where a[i] != b[i] {
        differing += 1
        if first == nil { first = i }
    }
    if let first {
        XCTFail("\(what): \(differing) of \(a.count) elements differ; first at [\(first)]: \(a[first]) vs \(b[first])",
                file: file, line: line)
    }
}

/// Fails unless the floats are identical bit for bit (so -0 != 0, and NaN payloads count).
public func assertBitIdentical(_ a: [Float], _ b: [Float], _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
    assertElementsEqual(a.map(\.bitPattern), b.map(\.bitPattern), what + " (bit patterns)", file: file, line: line)
}

/// Fails unless every |a[i] - b[i]| <= absolute + relative * |b[i]|; reports the worst element.
public func assertClose(_ a: [Float], _ b: [Float], absolute: Float, relative: Float = 0, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == b.count else {
        return XCTFail("\(what): \(a.count) vs \(b.count) elements", file: file, line: line)
    }
    var outside = 0, worst = -1, worstExcess: Float = 0
    for i in a.indices {
        let excess = abs(a[i] - b[i]) - (absolute + relative * abs(b[i]))
        if excess > 0 || a[i].isNaN != b[i].isNaN {
            outside += 1
            if worst < 0 || excess > worstExcess { worst = i; worstExcess = excess }
        }
    }
    if worst >= 0 {
        XCTFail("\(what): \(outside) of \(a.count) elements outside tolerance (abs \(absolute), rel \(relative)); "
                + "worst at [\(worst)]: \(a[worst]) vs \(b[worst])", file: file, line: line)
    }
}
