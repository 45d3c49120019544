/// Token plus learned position embedding: out[b, t, :] = wte[token[b, t], :] + wpe[t, :].
public enum Encoder {
    public static func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                               wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>,
                               batch: Int, time: Int, channels: Int) {
        for b in 0..<batch {
            for t in 0..<time {
                let o = out + (b * time + t) * channels
                let e = wte + Int(tokens[b * time + t]) * channels, p = wpe + t * channels
                for i in 0..<channels { o[i] = e[i] + p[i] }
            }
        }
    }

    /// Scatter-adds dout into the rows of dwte and dwpe that the forward read.
    public static func backward(dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
                                batch: Int, time: Int, channels: Int) {
        for b in 0..<batch {
            for t in 0..<time {
                let d = dout + (b * time + t) * channels
                let e = dwte + Int(tokens[b * time + t]) * channels, p = dwpe + t * channels
                for i in 0..<channels { e[i] += d[i]; p[i] += d[i] }
            }
        }
    }
}
