/// FNV-1a, 64 bits: a fast, portable, non-cryptographic hash of bytes (corpus split assignment,
/// the tokenizer's word cache). Inlinable so callers in other modules get a specialised loop.
@inlinable
public func fnv1a64<C: Sequence>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
