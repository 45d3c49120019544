/// Token plus learned position embedding: out[b, t, :] = wte[token[b, t], :] + wpe[t, :].
public enum Encoder {
    public static func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                               wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>,
                               batch: Int, time: Int, channels: Int) {
        Parallel.chunks(batch * time, minChunk: 32) { range in
            for bt in range {
                let o = out + bt * channels
                let e = wte + Int(tokens[bt]) * channels, p = wpe + (bt % time) * channels
                for i in 0..<channels { o[i] = e[i] + p[i] }
            }
        }
    }

    /// Scatter-adds dout into the rows of dwte and dwpe that the forward read. A token can occur
    /// at many positions, so threads split the channels, not the positions.
    public static func backward(dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
                                batch: Int, time: Int, channels: Int) {
        Parallel.chunks(channels, minChunk: 64) { range in
            for bt in 0..<(batch * time) {
                let d = dout + bt * channels
                let e = dwte + Int(tokens[bt]) * channels, p = dwpe + (bt % time) * channels
                for i in range { e[i] += d[i]; p[i] += d[i] }
            }
        }
    }
}
