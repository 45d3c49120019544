import Foundation

/// Parses and validates the JSON header of a safetensors file with the same rules as the
/// reference implementation: F32 only, offsets non-negative, tensors contiguous from 0 with no
/// gaps or overlaps, and each byte range exactly the size its shape implies.
enum SafeTensorsHeader {
    static func parse(_ header: Data, path: String) throws -> (metadata: [String: String], tensors: [SafeTensorsFile.TensorInfo]) {
        guard header.first == UInt8(ascii: "{") else {
            throw CheckpointError.safeTensorsBadJSON(path: path, detail: "header does not start with '{'")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw CheckpointError.safeTensorsBadJSON(path: path, detail: "\(error.localizedDescription)")
        }
        guard let entries = object as? [String: Any] else {
            throw CheckpointError.safeTensorsBadJSON(path: path, detail: "header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [SafeTensorsFile.TensorInfo] = []
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else {
                    throw CheckpointError.safeTensorsBadJSON(path: path, detail: "__metadata__ must map strings to "
                                                                                 + "strings")
                }
                metadata = strings
            } else {
                tensors.append(try tensorInfo(name: name, entry: value, path: path))
            }
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var expectedBegin = 0
        for tensor in tensors {
            guard tensor.dataOffsets.lowerBound == expectedBegin else {
                let problem = tensor.dataOffsets.lowerBound < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after the previous tensor"
                throw CheckpointError.safeTensorsBadOffsets(path: path, tensor: tensor.name, detail: "begins at \(tensor.dataOffsets.lowerBound), expected \(expectedBegin): \(problem)")
            }
            expectedBegin = tensor.dataOffsets.upperBound
        }
        return (metadata, tensors)
    }

    private static func tensorInfo(name: String, entry: Any, path: String) throws -> SafeTensorsFile.TensorInfo {
        func bad(_ detail: String) -> CheckpointError {
            CheckpointError.safeTensorsBadEntry(path: path, tensor: name, detail: detail)
        }
        guard let fields = entry as? [String: Any] else { throw bad("entry is not a JSON object") }
        guard let dtype = fields["dtype"] as? String else { throw bad("missing string field 'dtype'") }
        guard let shape = nonNegativeIntegers(fields["shape"]) else {
            throw bad("'shape' must be an array of non-negative integers")
        }
        guard let offsets = nonNegativeIntegers(fields["data_offsets"]), offsets.count == 2 else {
            throw bad("'data_offsets' must be two non-negative integers")
        }
        guard dtype == "F32" else {
            throw CheckpointError.safeTensorsUnsupportedDtype(path: path, tensor: name, dtype: dtype)
        }
        guard offsets[0] <= offsets[1] else {
            throw CheckpointError.safeTensorsBadOffsets(path: path, tensor: name, detail: "begin \(offsets[0]) is "
                                                                                          + "after end \(offsets[1])")
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Int.max / 4 else { throw bad("shape \(shape) is too large") }
            count = product
        }
        guard offsets[1] - offsets[0] == count * 4 else {
            throw CheckpointError.safeTensorsBadOffsets(path: path, tensor: name, detail: "[\(offsets[0]), \(offsets[1])] spans \(offsets[1] - offsets[0]) bytes but shape \(shape) of F32 needs \(count * 4)")
        }
        return SafeTensorsFile.TensorInfo(name: name, shape: shape, elementCount: count, dataOffsets: offsets[0]..<offsets[1])
    }

    /// JSON integers only: `as? Int` refuses fractional numbers, and negatives are rejected here.
    private static func nonNegativeIntegers(_ value: Any?) -> [Int]? {
        guard let elements = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in elements {
            guard let integer = element as? Int, integer >= 0 else { return nil }
            result.append(integer)
        }
        return result
    }
}
