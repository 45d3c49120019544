import LLMModel
import LLMSupport

/// The model's matrix products one by one, each shape as one training step calls it (through
/// `Matmul` and `sgemm`, so with `GEMMPartition`'s cuts, bias seeding and bias sums), every call
/// alternated with a call of `ModelBenchmark`'s reference shape (the MLP up-projection): the
/// ratio of the two rates says which shapes hold `fraction_of_sgemm` below 1 before any
/// elementwise work counts. The attention's per-head tile products are left out (see
/// `Attention`). Times are wall time, as `bench model`'s (with more than one thread the parts of a
/// product run on several threads at once; a layer's two backward products, which the model runs
/// side by side, one per worker, are timed apart, each on the workers its own parts take).
public enum GEMMBenchmark {
    public struct Row: Sendable {
        public var product: String
        public var m: Int, n: Int, k: Int
        public var callsPerStep: Int
        public var gflops: Double
        /// This shape's rate over the reference's, measured call by call alternately.
        public var ofReference: Double

        var flopsPerStep: Double { 2 * Double(m * n * k * callsPerStep) }

        public var scriptLine: String {
            "gemm=\(product) shape=\(m)x\(n)x\(k) calls_per_step=\(callsPerStep) gflops=\(format(gflops, 1)) "
                + "of_reference=\(format(ofReference, 4))"
        }
    }

    struct Case {
        let product: String, m: Int, n: Int, k: Int, callsPerStep: Int
        let run: () -> Void
    }

    public static func run(config: GPTConfig, batchSize: Int, sequenceLength: Int, rounds: Int = 20) -> [Row] {
        let rows = batchSize * sequenceLength, C = config.modelDim, V = config.vocabSize, L = config.layers
        let headRows = min(rows, GPT.headChunk), headCalls = (rows + GPT.headChunk - 1) / GPT.headChunk
        let largest = max(rows * 4 * C, 4 * C * C, V * C, headRows * V)
        var rng = SplitMix64(seed: 11)
        let buffers = (0..<4).map { _ -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: largest)
            rng.fillNormal(p, count: largest, std: 0.5)
            return p
        }
        defer { buffers.forEach { $0.deallocate() } }
        let (x, w, y, bias) = (buffers[0], buffers[1], buffers[2], buffers[3])

        let sgemmReference = ModelBenchmark.SGEMMReference(config: config, rows: rows)
        defer { sgemmReference.deallocate() }
        let reference = Case(product: "reference", m: sgemmReference.rows, n: sgemmReference.outChannels,
                             k: sgemmReference.inChannels, callsPerStep: 0, run: sgemmReference.product)
        var cases: [Case] = []
        for (name, inC, outC) in [("attn.c_attn", C, 3 * C), ("attn.c_proj", C, C), ("mlp.c_fc", C, 4 * C),
                                  ("mlp.c_proj", 4 * C, C)] {
            let residual: UnsafePointer<Float>? = outC == C ? UnsafePointer(x) : nil  // the projections add it
            cases.append(Case(product: "\(name) forward", m: rows, n: outC, k: inC, callsPerStep: L) {
                Matmul.forward(out: y, inp: x, weight: w, bias: bias, residual: residual, rows: rows, inChannels: inC,
                               outChannels: outC)
            })
            cases.append(Case(product: "\(name) input gradient", m: rows, n: inC, k: outC, callsPerStep: L) {
                Matmul.backwardInput(dinp: y, dout: x, weight: w, rows: rows, inChannels: inC, outChannels: outC)
            })
            cases.append(Case(product: "\(name) weight gradient", m: inC, n: outC, k: rows, callsPerStep: L) {
                Matmul.backwardWeights(dweight: y, dbias: bias, dout: x, inp: w, rows: rows, inChannels: inC,
                                       outChannels: outC)
            })
        }
        // The tied LM head, per chunk of `GPT.headChunk` positions (as `GPT.forwardBackward`).
        cases.append(Case(product: "lm_head logits", m: headRows, n: V, k: C, callsPerStep: headCalls) {
            sgemm(transB: true, m: headRows, n: V, k: C, a: x, lda: C, b: w, ldb: C, beta: 0, c: y, ldc: V)
        })
        cases.append(Case(product: "lm_head input gradient", m: headRows, n: C, k: V, callsPerStep: headCalls) {
            sgemm(m: headRows, n: C, k: V, a: x, lda: V, b: w, ldb: C, beta: 0, c: y, ldc: C)
        })
        cases.append(Case(product: "lm_head weight gradient", m: V, n: C, k: headRows, callsPerStep: headCalls) {
            // Whole, as the model runs it beside the input gradient.
            sgemm(transA: true, m: V, n: C, k: headRows, a: x, lda: V, b: w, ldb: C, beta: 1, c: y, ldc: C,
                  parallel: false)
        })

        func timed(_ c: Case) -> Double {
            let start = monotonicSeconds()
            c.run()
            return monotonicSeconds() - start
        }
        cases.forEach { _ = timed($0) }  // page faults and first packing outside the timing
        return cases.map { c in
            var own = 0.0, ref = 0.0
            for _ in 0..<rounds {
                ref += timed(reference)
                own += timed(c)
            }
            let flops = 2 * Double(c.m * c.n * c.k), referenceFlops = sgemmReference.flops
            return Row(product: c.product, m: c.m, n: c.n, k: c.k, callsPerStep: c.callsPerStep,
                       gflops: flops * Double(rounds) / own / 1e9,
                       ofReference: (flops / own) / (referenceFlops / ref))
        }
    }

    /// One step's products together: their FLOPs over their time, as a share of the reference's rate.
    public static func weightedOfReference(_ rows: [Row]) -> Double {
        rows.reduce(0) { $0 + $1.flopsPerStep } / rows.reduce(0) { $0 + $1.flopsPerStep / $1.ofReference }
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["| product | m x n x k | calls/step | GFLOP/s | of reference |", "|---|---|---|---|---|"]
        for row in rows {
            lines.append("| \(row.product) | \(row.m)x\(row.n)x\(row.k) | \(row.callsPerStep) | \(format(row.gflops, 1)) | "
                         + "\(format(row.ofReference, 3)) |")
        }
        lines.append("| one step's products, by FLOPs | | | | \(format(weightedOfReference(rows), 3)) |")
        return lines.joined(separator: "\n")
    }
}
