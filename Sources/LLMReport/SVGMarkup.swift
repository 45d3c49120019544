import Foundation

// The few pieces of SVG/XML text every chart is built from.

/// `<name key="value" ...>content</name>`, or `<name .../>` without content. Values and content
/// go in as given: escape text with `xmlEscape` first.
func tag(_ name: String, _ attributes: KeyValuePairs<String, String>, _ content: String? = nil) -> String {
    let list = attributes.map { " \($0.key)=\"\($0.value)\"" }.joined()
    return content.map { "<\(name)\(list)>\($0)</\(name)>" } ?? "<\(name)\(list)/>"
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
