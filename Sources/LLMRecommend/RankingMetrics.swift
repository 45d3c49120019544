/// The measures recommendation is judged by, for one query's ranked suggestions; the reports
/// average them over queries.
public enum RankingMetrics {
    /// Share of the relevant items found among the first k suggestions (0 when none is relevant).
    public static func recall<T: Hashable>(at k: Int, ranked: [T], relevant: Set<T>) -> Double {
        guard !relevant.isEmpty else { return 0 }
        return Double(Set(ranked.prefix(k)).intersection(relevant).count) / Double(relevant.count)
    }

    /// 1 / the rank of the first relevant suggestion, 0 when none is.
    public static func reciprocalRank<T: Hashable>(ranked: [T], relevant: Set<T>) -> Double {
        guard let first = ranked.firstIndex(where: relevant.contains) else { return 0 }
        return 1 / Double(first + 1)
    }

    /// Share of the first k suggestions that are relevant, over k (fewer than k count as misses).
    public static func precision(at k: Int, relevant: [Bool]) -> Double {
        precondition(k > 0)
        return Double(relevant.prefix(k).filter { $0 }.count) / Double(k)
    }

    /// The mean of `values`, 0 for none.
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
