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
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        func px(_ x: Double) -> Double { Self.left + xAxis.fraction(x) * plotWidth }
        func py(_ y: Double) -> Double { Self.top + (1 - yAxis.fraction(y)) * plotHeight }
        let skipNotes = series.filter { $0.skipped > 0 }.map {
            "\($0.name): \($0.skipped) non-finite value\($0.skipped == 1 ? "" : "s") (NaN/Inf) skipped"
        }
        let allNotes = notes + skipNotes
        let height = Self.height + Double(allNotes.count) * 16

        var s = svgHeader(width: Self.width, height: height, title: title)
        s += "<rect class=\"plot-area\" x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"#fff\" stroke=\"#999\"/>\n"
        s += "<g class=\"axis\" data-axis=\"x\" data-lower=\"\(xAxis.lower)\" data-upper=\"\(xAxis.upper)\" data-scale=\"linear\">\n"
        for tick in xAxis.ticks {
            let x = f(px(tick))
            s += "<line class=\"grid\" x1=\"\(x)\" y1=\"\(f(Self.top))\" x2=\"\(x)\" y2=\"\(f(Self.top + plotHeight))\" stroke=\"#e5e5e5\"/>"
            s += "<text class=\"tick\" data-value=\"\(tick)\" x=\"\(x)\" y=\"\(f(Self.top + plotHeight + 16))\" text-anchor=\"middle\">\(xAxis.label(tick))</text>\n"
        }
        s += "</g>\n<g class=\"axis\" data-axis=\"y\" data-lower=\"\(yAxis.lower)\" data-upper=\"\(yAxis.upper)\" data-scale=\"\(yAxis.logarithmic ? "log" : "linear")\">\n"
        for tick in yAxis.ticks {
            let y = f(py(tick))
            s += "<line class=\"grid\" x1=\"\(f(Self.left))\" y1=\"\(y)\" x2=\"\(f(Self.left + plotWidth))\" y2=\"\(y)\" stroke=\"#e5e5e5\"/>"
            s += "<text class=\"tick\" data-value=\"\(tick)\" x=\"\(f(Self.left - 6))\" y=\"\(y)\" dy=\"4\" text-anchor=\"end\">\(yAxis.label(tick))</text>\n"
        }
        s += "</g>\n"
        s += "<text class=\"axis-label\" x=\"\(f(Self.left + plotWidth / 2))\" y=\"\(f(Self.top + plotHeight + 40))\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>\n"
        let yLabelText = yLabel + (yAxis.logarithmic ? " (log scale)" : "")
        s += "<text class=\"axis-label\" transform=\"translate(18 \(f(Self.top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(xmlEscape(yLabelText))</text>\n"

        for (index, line) in series.enumerated() {
            let colour = Self.palette[line.colour % Self.palette.count]
            let points = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline class=\"series\" data-series=\"\(xmlEscape(line.name))\" data-points=\"\(line.points.count)\" data-skipped=\"\(line.skipped)\" points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\"\(line.dashed ? " stroke-dasharray=\"6 3\"" : "")/>\n"
            // Sparse series (evaluations) get markers: a single point would draw no line at all.
            if line.points.count <= 40 {
                for p in line.points {
                    s += "<circle class=\"marker\" cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(colour)\"/>"
                }
                s += "\n"
            }
            let ly = Self.top + 10 + Double(index) * 18, lx = Self.left + plotWidth + 14
            s += "<g class=\"legend-entry\"><line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 3\"" : "")/>"
            s += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly))\" dy=\"4\">\(xmlEscape(line.name))</text></g>\n"
        }
        for (index, note) in allNotes.enumerated() {
            s += "<text class=\"note\" x=\"\(f(Self.left))\" y=\"\(f(Self.height + Double(index) * 16))\" fill=\"#a33\">\(xmlEscape(note))</text>\n"
        }
        return s + "</svg>\n"
    }
}

/// The opening of every SVG we write: namespace, size, a <title> for screen readers and tooltips.
func svgHeader(width: Double, height: Double, title: String) -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" \
    viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="12" role="img">
    <title>\(xmlEscape(title))</title>
    <rect width="100%" height="100%" fill="#fafafa"/>
    <text class="title" x="\(f(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(xmlEscape(title))</text>

    """
}

/// Coordinates with two decimals: enough for a screen, and the files stay small.
func f(_ value: Double) -> String { String(format: "%.2f", value) }

func xmlEscape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        // XML 1.0 forbids most control characters even as references: show them as U+FFFD.
        case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": out += "\u{FFFD}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
