/// Reductions and exp over contiguous floats with explicit SIMD accumulators. LLVM will not
/// reassociate a scalar float reduction on its own, so a plain `sum += x[i]` loop runs one add
/// at a time; 16 lanes in fixed order keep it fast and still deterministic. Used by the attention;
/// the other layers' elementwise kernels are in CLLMKernels (C, with AVX2 and AVX-512 variants).
typealias Lanes = SIMD16<Float>

@inline(__always)
func loadLanes(_ p: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

@inline(__always)
func storeLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
}

/// Max with four independent scalar chains (SIMD16's pointwiseMax lowers to a per-lane loop
/// through the stack on the baseline x86-64 target).
@inline(__always)
func vectorMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0
    var i = 0
    while i + 4 <= n {
        m0 = max(m0, x[i]); m1 = max(m1, x[i + 1]); m2 = max(m2, x[i + 2]); m3 = max(m3, x[i + 3])
        i += 4
    }
    while i < n { m0 = max(m0, x[i]); i += 1 }
    return max(max(m0, m1), max(m2, m3))
}

@inline(__always)
func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Lanes(repeating: 0)
    var i = 0
    while i + Lanes.scalarCount <= n { acc += loadLanes(a + i) * loadLanes(b + i); i += Lanes.scalarCount }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// e^x to about 2 ulp (Cephes expf): x = n ln2 + r with n rounded by the 1.5 * 2^23 trick, a
/// degree-6 polynomial for e^r, and 2^n built in the exponent bits. No calls or branches, so
/// the softmax loops vectorise; inputs below -87.3 give ~1e-38 rather than 0, which no sum notices.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let c = min(max(x, -87.3), 88.3)
    let shifted = c * 1.44269504088896341 + 12582912
    let n = shifted - 12582912
    let r = c - n * 0.693359375 + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r * r + r + 1
    let exponent = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
    return er * Float(bitPattern: UInt32(bitPattern: (exponent &+ 127) << 23))
}

/// `fastExp` on 16 lanes, the same operations in the same order (the same bits for any non-NaN
/// input). LLVM
/// vectorises the scalar loop only 4 wide with one long dependency chain per iteration; four
/// independent chains here run ~25% faster. The clamp uses `replacing`, which lowers to compares
/// and blends (unlike pointwiseMin/Max, see vectorMax).
@inline(__always)
func fastExp(_ x: Lanes) -> Lanes {
    let lo = Lanes(repeating: -87.3), hi = Lanes(repeating: 88.3), magic = Lanes(repeating: 12582912)
    var c = x.replacing(with: lo, where: x .< lo)
    c = c.replacing(with: hi, where: c .> hi)
    let shifted = c * 1.44269504088896341 + magic
    let n = shifted - magic
    let r = c - n * 0.693359375 + n * 2.12194440e-4
    var p = Lanes(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r * r + r + 1
    let exponent = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
    return er * unsafeBitCast((exponent &+ 127) &<< 23, to: Lanes.self)
}

/// x[i] = e^(x[i] - shift) for i < n, returning the sum, accumulated in the same pass (lanes,
/// then the tail in order).
@inline(__always)
func expShiftedInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = Lanes(repeating: 0)
    let s = Lanes(repeating: shift)
    var i = 0
    while i + Lanes.scalarCount <= n {
        let e = fastExp(loadLanes(x + i) - s)
        storeLanes(e, x + i)
        acc += e
        i += Lanes.scalarCount
    }
    var sum = acc.sum()
    while i < n { x[i] = fastExp(x[i] - shift); sum += x[i]; i += 1 }
    return sum
}
