import Foundation

/// A matrix as coloured cells (white to dark blue) with row and column labels: confusion
/// matrices and attention maps. Each cell is a `rect` with `data-row`, `data-col` and
/// `data-value`, so the drawn numbers can be read back exactly.
public struct HeatMap {
    public var title: String
    public var rowTitle: String
    public var columnTitle: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// values[row][column]; non-finite cells are drawn grey.
    public var values: [[Double]]
    /// The value drawn darkest; nil: the largest cell.
    public var maximum: Double?
    /// Print each cell's value in it (readable for small matrices such as confusion counts).
    public var showValues: Bool

    public init(title: String, rowTitle: String, columnTitle: String, rowLabels: [String], columnLabels: [String],
                values: [[Double]], maximum: Double? = nil, showValues: Bool = false) {
        self.title = title
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.maximum = maximum
        self.showValues = showValues
    }

    /// Cell size, the label margins, and the whole drawing's size.
    var layout: (cell: Double, left: Double, top: Double, width: Double, height: Double) {
        let rows = values.count, columns = values.first?.count ?? 0
        let longest = (rowLabels + columnLabels).map { Double($0.count) }.max() ?? 1
        let labelSpace = min(160, 14 + 8 * longest)
        let cell = max(14, min(44, 520 / Double(max(rows, columns, 1))))
        let left = 40 + labelSpace, top = 40 + labelSpace
        return (cell, left, top, left + Double(columns) * cell + 90, top + Double(rows) * cell + 30)
    }

    public var size: (width: Double, height: Double) { (layout.width, layout.height) }

    public func svg() -> String {
        let rows = values.count, columns = values.first?.count ?? 0
        let (cell, left, top, width, height) = layout
        let peak = maximum ?? values.flatMap { $0 }.filter(\.isFinite).max() ?? 1
        var s = svgHeader(width: width, height: height, title: title)
        var cells = ""
        for r in 0..<rows {
            for c in 0..<values[r].count {
                let v = values[r][c], x = left + Double(c) * cell, y = top + Double(r) * cell
                let share = v.isFinite && peak > 0 ? max(0, min(1, v / peak)) : 0
                cells += tag("rect", ["class": "cell", "data-row": "\(r)", "data-col": "\(c)", "data-value": "\(v)",
                                      "x": f(x), "y": f(y), "width": f(cell), "height": f(cell),
                                      "fill": v.isFinite ? Self.colour(share) : "#bbb"],
                             tag("title", [:], xmlEscape(label(r, c, v))))
                if showValues {
                    cells += tag("text", ["x": f(x + cell / 2), "y": f(y + cell / 2), "dy": "4", "text-anchor": "middle",
                                          "fill": share > 0.55 ? "#fff" : "#222"], Axis.trimmed(v, decimals: 2))
                }
            }
            cells += "\n"
        }
        s += tag("g", ["class": "cells", "data-rows": "\(rows)", "data-columns": "\(columns)"], "\n" + cells) + "\n"
        for (r, text) in rowLabels.enumerated() {
            s += tag("text", ["class": "row-label", "x": f(left - 6), "y": f(top + (Double(r) + 0.5) * cell), "dy": "4",
                              "text-anchor": "end"], xmlEscape(text)) + "\n"
        }
        for (c, text) in columnLabels.enumerated() {
            let x = left + (Double(c) + 0.5) * cell
            s += tag("text", ["class": "column-label", "transform": "translate(\(f(x)) \(f(top - 6))) rotate(-60)"],
                     xmlEscape(text)) + "\n"
        }
        s += tag("text", ["class": "axis-label", "transform": "translate(16 \(f(top + Double(rows) * cell / 2))) "
                                                              + "rotate(-90)",
                          "text-anchor": "middle"], xmlEscape(rowTitle)) + "\n"
        s += tag("text", ["class": "axis-label", "x": f(left + Double(columns) * cell / 2), "y": f(height - 8),
                          "text-anchor": "middle"], xmlEscape(columnTitle)) + "\n"
        // The colour key: 0 at the bottom, the peak value at the top.
        let keyX = left + Double(columns) * cell + 20, keyHeight = min(160, Double(rows) * cell)
        for i in 0..<10 {
            s += tag("rect", ["x": f(keyX), "y": f(top + keyHeight * Double(9 - i) / 10), "width": "14",
                              "height": f(keyHeight / 10), "fill": Self.colour(Double(i) / 9)])
        }
        s += "\n" + tag("text", ["x": f(keyX + 18), "y": f(top + 8)], Axis.trimmed(peak, decimals: 3))
        s += tag("text", ["x": f(keyX + 18), "y": f(top + keyHeight)], "0") + "\n"
        return s + "</svg>\n"
    }

    private func label(_ r: Int, _ c: Int, _ v: Double) -> String {
        let row = r < rowLabels.count ? rowLabels[r] : "\(r)", column = c < columnLabels.count ? columnLabels[c] : "\(c)"
        return "\(rowTitle) \(row), \(columnTitle) \(column): \(Axis.trimmed(v, decimals: 4))"
    }

    /// White (0) to dark blue (1), linear in RGB.
    static func colour(_ share: Double) -> String {
        let from = (247.0, 251.0, 255.0), to = (8.0, 48.0, 107.0)
        func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * share).rounded()) }
        return String(format: "#%02x%02x%02x", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
    }
}
