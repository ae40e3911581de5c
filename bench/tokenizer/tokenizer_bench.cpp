// Single-thread token counting speed of each vocabulary, for bench/tokenizer_speed.mjs.
//   tokenizer_bench VOCAB_DIR CORPUS_FILE [SECONDS]
// CORPUS_FILE holds chunks separated by NUL bytes; each is counted on its own, as the proxy
// counts one request's text, and the counts are summed. One untimed pass first (it warms the
// caches and gives the token count the harness checks), then whole passes until SECONDS of CPU
// time are spent. Prints one JSON line per vocabulary. CPU time is the figure to quote on a
// shared machine: it leaves out the time other processes hold the core; wall time is kept too.
#include "tokenizer_set.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using namespace tokenmeter;

/// Bounds a run whatever the budget: even a very fast tokenizer stops after this many passes.
constexpr int max_passes = 100000;

double seconds_of(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::vector<std::string_view> split_chunks(std::string_view corpus) {
  std::vector<std::string_view> chunks;
  for (std::size_t start = 0; start < corpus.size();) {
    const std::size_t end = std::min(corpus.find('\0', start), corpus.size());
    if (end > start) chunks.push_back(corpus.substr(start, end - start));
    start = end + 1;
  }
  return chunks;
}

std::uint64_t count_all(const tokenizer& t, const std::vector<std::string_view>& chunks) {
  std::uint64_t tokens = 0;
  for (const auto chunk : chunks) tokens += t.count(chunk);
  return tokens;
}

void run(vocabulary v, const tokenizer& t, const std::vector<std::string_view>& chunks, double budget) {
  std::uint64_t bytes = 0;
  for (const auto chunk : chunks) bytes += chunk.size();
  const std::uint64_t tokens = count_all(t, chunks);
  const double cpu_start = seconds_of(CLOCK_THREAD_CPUTIME_ID);
  const double wall_start = seconds_of(CLOCK_MONOTONIC);
  int passes = 0;
  double cpu = 0;
  std::uint64_t counted = 0; // summed and printed so that no pass can be optimised away
  while (passes < max_passes && (passes == 0 || cpu < budget)) {
    counted += count_all(t, chunks);
    ++passes;
    cpu = seconds_of(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  }
  const double wall = seconds_of(CLOCK_MONOTONIC) - wall_start;
  const double done_bytes = static_cast<double>(bytes) * passes;
  const auto done_tokens = static_cast<double>(counted);
  std::printf("{\"vocabulary\":\"%s\",\"bytes\":%llu,\"tokens\":%llu,\"passes\":%d,\"seconds\":%.6f,"
              "\"wall_seconds\":%.6f,\"mb_per_s\":%.3f,\"tokens_per_s\":%.0f,\"wall_mb_per_s\":%.3f,"
              "\"wall_tokens_per_s\":%.0f}\n",
              std::string(to_string(v)).c_str(), static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(tokens), passes, cpu, wall, done_bytes / cpu / 1e6,
              done_tokens / cpu, done_bytes / wall / 1e6, done_tokens / wall);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s VOCAB_DIR CORPUS_FILE [SECONDS]\n", argv[0]);
    return 2;
  }
  double budget = 2.0;
  if (argc == 4) {
    const std::string_view arg = argv[3];
    if (std::from_chars(arg.data(), arg.data() + arg.size(), budget).ec != std::errc() || budget < 0) {
      std::fprintf(stderr, "bad SECONDS: %s\n", argv[3]);
      return 2;
    }
  }
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 1;
  }
  const std::string corpus{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto chunks = split_chunks(corpus);
  if (chunks.empty()) {
    std::fprintf(stderr, "%s holds no text\n", argv[2]);
    return 1;
  }
  const auto set = tokenizer_set::load(argv[1]);
  int missing = 0;
  for (const auto v : {vocabulary::o200k, vocabulary::cl100k, vocabulary::llama3}) {
    if (const tokenizer* t = set.find(v))
      run(v, *t, chunks, budget);
    else
      ++missing;
  }
  return missing == 0 ? 0 : 1;
}
