import XCTest
@testable import LLMData

/// The default normaliser on posts taken verbatim from the shipped corpora.
final class NormalizerRealPostTests: XCTestCase {
    let normalizer = TextNormalizer()

    func testTweetsWithHandlesURLsAndLatin1() {
        XCTAssertEqual(normalizer.normalize("RT @anonymous at www.thishomeisme to win personal consultation with me & "
                                            + "£1000 homewares. Upload photos of your most outdated room!"),
                       "RT <user> at <url> to win personal consultation with me & £1000 homewares. Upload photos of "
                       + "your most outdated room!")
        XCTAssertEqual(normalizer.normalize("Wow, @anonymous and @anonymous I love today's PCW: http://url_removed  "
                                            + "Nice mix of cute character designs and funny punch line."),
                       "Wow, <user> and <user> I love today's PCW: <url> Nice mix of cute character designs and funny "
                       + "punch line.")
        XCTAssertEqual(normalizer.normalize("Love new Glee and Parenthood. Thank goodness @anonymous's homemade "
                                            + "antenna works! http://url_removed"),
                       "Love new Glee and Parenthood. Thank goodness <user>'s homemade antenna works! <url>")
        XCTAssertEqual(normalizer.normalize("@anonymous cierra la puerta!!!!!!!!  Oh yeaaaah... Clases de español ;)"),
                       "<user> cierra la puerta!!!!!!!! Oh yeaaaah... Clases de español ;)")
    }

    func testChineseReviewsWithURLsAndFullWidthPunctuation() {
        XCTAssertEqual(normalizer.normalize("我正在写这本书的心得，勘误和疑点，有兴趣的朋友可以访问我的网站，交流切磋。www.smallstonesoft.com"),
                       "我正在写这本书的心得,勘误和疑点,有兴趣的朋友可以访问我的网站,交流切磋。<url>")
        XCTAssertEqual(normalizer.normalize("没有系统，安装XP好麻烦！（想装XP的朋友，可参考：http://tommyjade.blog.163.com/blog/static/91910950200952821959864/）"),
                       "没有系统,安装XP好麻烦!(想装XP的朋友,可参考:<url>)")
        XCTAssertEqual(normalizer.normalize("Vista太慢 装xp系统参考http://nbbbs.zol.com.cn/36/32108_358696.html  4芯电池有点小 "
                                            + "没有HDMI接口"),
                       "Vista太慢 装xp系统参考<url> 4芯电池有点小 没有HDMI接口")
    }

    func testPlaceholdersBecomeSingleTokens() {
        let t = TrainedTokenizer.shared
        let ids = t.encode(normalizer.normalize("mail jo@example.com or call 555-123-4567, cc @bob"))
        for placeholder in ["<email>", "<phone>", "<user>"] {
            XCTAssertEqual(ids.filter { $0 == t.specialTokens[placeholder]! }.count, 1, placeholder)
        }
    }
}
