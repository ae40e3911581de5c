#include "body_decoder.hpp"

#include "metering_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokenmeter {
namespace {

/// Everything the decoder produces from the pieces, checking the per-call bound on the way.
std::string decode_all(body_decoder& decoder, const std::vector<std::string_view>& pieces) {
  std::string out;
  for (std::string_view piece : pieces) {
    for (std::string_view decoded = decoder.decode(piece); !decoded.empty(); decoded = decoder.decode(piece)) {
      EXPECT_LE(decoded.size(), body_decoder::output_chunk_bytes);
      out.append(decoded);
    }
    EXPECT_TRUE(piece.empty());
  }
  return out;
}

std::string decode_all(content_coding coding, const std::vector<std::string_view>& pieces) {
  body_decoder decoder(coding);
  return decode_all(decoder, pieces);
}

const std::string sample = "data: {\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":15}}\n\n"
                           "data: {\"text\":\"\xE4\xBD\xA0\xE5\xA5\xBD\"}\n\n";

TEST(ContentCoding, NamesAreCaseInsensitiveAndTrimmed) {
  EXPECT_EQ(coding_for("gzip"), content_coding::gzip);
  EXPECT_EQ(coding_for(" GZip "), content_coding::gzip);
  EXPECT_EQ(coding_for("x-gzip"), content_coding::gzip);
  EXPECT_EQ(coding_for("Deflate"), content_coding::deflate);
  EXPECT_EQ(coding_for(""), content_coding::identity);
  EXPECT_EQ(coding_for("identity"), content_coding::identity);
}

TEST(ContentCoding, OtherAndStackedCodingsAreUnsupported) {
  EXPECT_EQ(coding_for("br"), content_coding::unsupported);
  EXPECT_EQ(coding_for("zstd"), content_coding::unsupported);
  EXPECT_EQ(coding_for("gzip, br"), content_coding::unsupported);
}

TEST(BodyDecoder, IdentityPassesBytesThroughUnchanged) {
  EXPECT_EQ(decode_all(content_coding::identity, test::cut_every(sample, 5)), sample);
}

TEST(BodyDecoder, GzipFedOneByteAtATimeDecodesExactly) {
  EXPECT_EQ(decode_all(content_coding::gzip, test::cut_every(test::gzip(sample), 1)), sample);
}

TEST(BodyDecoder, GzipOfAZlibStreamIsAcceptedToo) {
  EXPECT_EQ(decode_all(content_coding::gzip, {test::compress(sample, 15)}), sample);
}

TEST(BodyDecoder, ConcatenatedGzipMembersDecodeInOrder) {
  const std::string members = test::gzip("first ") + test::gzip("second");
  EXPECT_EQ(decode_all(content_coding::gzip, test::cut_every(members, 3)), "first second");
}

TEST(BodyDecoder, ZlibWrappedDeflateDecodes) {
  EXPECT_EQ(decode_all(content_coding::deflate, test::cut_every(test::compress(sample, 15), 1)), sample);
}

TEST(BodyDecoder, RawDeflateDecodes) {
  EXPECT_EQ(decode_all(content_coding::deflate, test::cut_every(test::compress(sample, -15), 1)), sample);
}

TEST(BodyDecoder, BoundsTheOutputOfOneCall) {
  const std::string large(1 << 20, 'a');
  const std::string compressed = test::gzip(large);
  body_decoder decoder(content_coding::gzip);
  std::string_view input = compressed;
  EXPECT_EQ(decoder.decode(input).size(), body_decoder::output_chunk_bytes);
  EXPECT_EQ(decode_all(decoder, {input}).size(), large.size() - body_decoder::output_chunk_bytes);
}

TEST(BodyDecoder, IgnoresBytesAfterTheEndOfADeflateStream) {
  const std::string body = test::compress(sample, 15) + "trailing junk";
  body_decoder decoder(content_coding::deflate);
  EXPECT_EQ(decode_all(decoder, {body}), sample);
  EXPECT_FALSE(decoder.failed());
}

TEST(BodyDecoder, FlagsCorruptDataAndDropsWhatFollows) {
  // A gzip header followed by a deflate block of the reserved type 3.
  const std::string corrupt("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff", 12);
  body_decoder decoder(content_coding::gzip);
  EXPECT_EQ(decode_all(decoder, {corrupt, test::gzip(sample)}), "");
  EXPECT_TRUE(decoder.failed());
}

TEST(BodyDecoder, AnUnsupportedCodingFailsFromTheStart) {
  body_decoder decoder(content_coding::unsupported);
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decode_all(decoder, {sample}), "");
}

} // namespace
} // namespace tokenmeter
