import Foundation

/// One line on a chart.
public struct Series {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// Points dropped because x or y was NaN/Inf; said in the chart's notes.
    public var skipped: Int
    public var dashed: Bool
    /// Index into the palette: series of one run share a colour, so overlays read by run.
    public var colour: Int

    public init(name: String, points: [(x: Double, y: Double)], skipped: Int = 0, dashed: Bool = false, colour: Int = 0) {
        self.name = name
        self.points = points
        self.skipped = skipped
        self.dashed = dashed
        self.colour = colour
    }
}

/// A line chart as a standalone SVG document, written by hand (no tools at run time). The
/// structure is meant to be read back: each series is a `polyline` with `data-series` and
/// `data-points`, each axis a `g` with its range in `data-lower`/`data-upper`, so tests (and
/// scripts) can check what was drawn.
public struct LineChart {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// nil: logarithmic when the data is positive and spans 20x or more.
    public var logY: Bool?
    public var notes: [String] = []

    static let width = 760.0, height = 440.0
    static let left = 78.0, right = 190.0, top = 46.0, bottom = 58.0
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    /// The points of every series; a chart with none is not worth drawing.
    public var isEmpty: Bool { series.allSatisfy { $0.points.isEmpty } }

    public func svg() -> String {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let spansDecades = (ys.min() ?? 0) > 0 && (ys.max() ?? 0) / (ys.min() ?? 1) >= 20
        let xAxis = Axis(covering: xs), yAxis = Axis(covering: ys, logarithmic: logY ?? spansDecades)
        let (left, top) = (Self.left, Self.top)
        let width = Self.width - left - Self.right, height = Self.height - top - Self.bottom
        func px(_ x: Double) -> String { f(left + xAxis.fraction(x) * width) }
        func py(_ y: Double) -> String { f(top + (1 - yAxis.fraction(y)) * height) }
        let skipNotes = series.filter { $0.skipped > 0 }.map {
            "\($0.name): \($0.skipped) non-finite value\($0.skipped == 1 ? "" : "s") (NaN/Inf) skipped"
        }
        let allNotes = notes + skipNotes

        var s = svgHeader(width: Self.width, height: Self.height + Double(allNotes.count) * 16, title: title)
        s += tag("rect", ["class": "plot-area", "x": f(left), "y": f(top), "width": f(width), "height": f(height),
                          "fill": "#fff", "stroke": "#999"]) + "\n"
        var xTicks = ""
        for tick in xAxis.ticks {
            xTicks += tag("line", ["class": "grid", "x1": px(tick), "y1": f(top), "x2": px(tick), "y2": f(top + height),
                                   "stroke": "#e5e5e5"])
            xTicks += tag("text", ["class": "tick", "data-value": "\(tick)", "x": px(tick), "y": f(top + height + 16),
                                   "text-anchor": "middle"], xAxis.label(tick)) + "\n"
        }
        s += tag("g", ["class": "axis", "data-axis": "x", "data-lower": "\(xAxis.lower)", "data-upper": "\(xAxis.upper)",
                       "data-scale": "linear"], "\n" + xTicks) + "\n"
        var yTicks = ""
        for tick in yAxis.ticks {
            yTicks += tag("line", ["class": "grid", "x1": f(left), "y1": py(tick), "x2": f(left + width), "y2": py(tick),
                                   "stroke": "#e5e5e5"])
            yTicks += tag("text", ["class": "tick", "data-value": "\(tick)", "x": f(left - 6), "y": py(tick), "dy": "4",
                                   "text-anchor": "end"], yAxis.label(tick)) + "\n"
        }
        s += tag("g", ["class": "axis", "data-axis": "y", "data-lower": "\(yAxis.lower)", "data-upper": "\(yAxis.upper)",
                       "data-scale": yAxis.logarithmic ? "log" : "linear"], "\n" + yTicks) + "\n"
        s += tag("text", ["class": "axis-label", "x": f(left + width / 2), "y": f(top + height + 40),
                          "text-anchor": "middle"], xmlEscape(xLabel)) + "\n"
        s += tag("text", ["class": "axis-label", "transform": "translate(18 \(f(top + height / 2))) rotate(-90)",
                          "text-anchor": "middle"], xmlEscape(yLabel + (yAxis.logarithmic ? " (log scale)" : ""))) + "\n"

        for (index, line) in series.enumerated() {
            let colour = Self.palette[line.colour % Self.palette.count], dashes = line.dashed ? "6 3" : "none"
            s += tag("polyline", ["class": "series", "data-series": xmlEscape(line.name), "data-points": "\(line.points.count)",
                                  "data-skipped": "\(line.skipped)",
                                  "points": line.points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " "),
                                  "fill": "none", "stroke": colour, "stroke-width": "1.8", "stroke-dasharray": dashes]) + "\n"
            // Sparse series (evaluations) get markers: a single point would draw no line at all.
            if line.points.count <= 40 {
                s += line.points.map { tag("circle", ["class": "marker", "cx": px($0.x), "cy": py($0.y), "r": "3",
                                                      "fill": colour]) }.joined() + "\n"
            }
            let ly = f(top + 10 + Double(index) * 18), lx = left + width + 14
            let key = tag("line", ["x1": f(lx), "y1": ly, "x2": f(lx + 22), "y2": ly, "stroke": colour, "stroke-width": "2",
                                   "stroke-dasharray": dashes])
            s += tag("g", ["class": "legend-entry"], key + tag("text", ["x": f(lx + 28), "y": ly, "dy": "4"], xmlEscape(line.name))) + "\n"
        }
        for (index, note) in allNotes.enumerated() {
            s += tag("text", ["class": "note", "x": f(left), "y": f(Self.height + Double(index) * 16), "fill": "#a33"],
                     xmlEscape(note)) + "\n"
        }
        return s + "</svg>\n"
    }
}
