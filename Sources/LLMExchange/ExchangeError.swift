/// A problem with an export or import, naming the file or field and saying what to do.
public struct ExchangeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
