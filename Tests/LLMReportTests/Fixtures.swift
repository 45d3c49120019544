import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// A scratch run directory, removed after the test, with helpers that write metrics.jsonl lines.
final class ScratchRun {
    let url: URL

    init(_ name: String = "run") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("llmreport-tests-\(UUID().uuidString.prefix(8))", isDirectory: true)
            .appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }

    func writeMetrics(_ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent("metrics.jsonl"))
    }
}

/// `steps` training records as the trainer writes them (512 tokens a step) and an evaluation
/// every `evalEvery` steps; `nanSteps` get "nan" for train_loss, as RunLog writes a NaN.
func trainingMetrics(steps: Int, evalEvery: Int = 10, nanSteps: Set<Int> = []) -> String {
    var lines: [String] = []
    for step in 1...steps {
        let loss = nanSteps.contains(step) ? "\"nan\"" : "\(6.2 * exp(-Double(step) / 30) + 1.5)"
        lines.append("""
        {"comm_share":\(0.1 + 0.001 * Double(step)),"elapsed_s":\(Double(step) * 0.2),"event":"train",\
        "grad_norm":\(20 * exp(-Double(step) / 8) + 0.3),"lr":\(0.003 * Double(min(step, 20)) / 20),\
        "mfu":0.21,"step":\(step),"tokens":\(step * 512),"tokens_per_s":\(2500 + step),"train_loss":\(loss),"time":1.7e9}
        """)
        if step % evalEvery == 0 {
            lines.append("{\"event\":\"eval\",\"step\":\(step),\"time\":1.7e9,\"val_loss\":\(6.0 * exp(-Double(step) / 30) + 1.8),\"val_ppl\":9,\"val_sequences\":16}")
        }
    }
    return lines.joined(separator: "\n") + "\n"
}

/// An SVG parsed as XML: parsing fails the test on malformed output.
struct SVG {
    let document: XMLDocument

    init(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        document = try XMLDocument(xmlString: text, options: [])
        XCTAssertEqual(document.rootElement()?.name, "svg", file: file, line: line)
    }

    init(contentsOf url: URL) throws {
        try self.init(try String(contentsOf: url, encoding: .utf8))
    }

    /// Elements named `name` (any namespace) whose `class` attribute is `cls`, if given.
    func elements(_ name: String, class cls: String? = nil) throws -> [XMLElement] {
        let filter = cls.map { " and @class='\($0)'" } ?? ""
        return try document.nodes(forXPath: "//*[local-name()='\(name)'\(filter)]").compactMap { $0 as? XMLElement }
    }

    func polyline(_ series: String) throws -> XMLElement? {
        try elements("polyline", class: "series").first { $0.value("data-series") == series }
    }

    func axis(_ which: String) throws -> (lower: Double, upper: Double, scale: String) {
        let g = try XCTUnwrap(try elements("g", class: "axis").first { $0.value("data-axis") == which }, "no \(which) axis")
        return (Double(g.value("data-lower")!)!, Double(g.value("data-upper")!)!, g.value("data-scale")!)
    }

    func texts(class cls: String) throws -> [String] { try elements("text", class: cls).compactMap(\.stringValue) }
}

extension XMLElement {
    /// An attribute by name. (`attribute(forName:)` of swift-corelibs-foundation sometimes
    /// misses attributes that `attributes` lists, so the list is searched.)
    func value(_ attribute: String) -> String? { attributes?.first { $0.name == attribute }?.stringValue }

    /// The (x, y) pixel coordinates of a polyline.
    var points: [(x: Double, y: Double)] {
        (value("points") ?? "").split(separator: " ").map { pair in
            let parts = pair.split(separator: ",").map { Double($0)! }
            return (parts[0], parts[1])
        }
    }
}
