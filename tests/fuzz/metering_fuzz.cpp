// One libFuzzer entry point over the metering core. The first input byte picks what is
// exercised and how; the rest is the body. Besides "no crash, no leak, no UB", it checks
// the properties the relay relies on:
//   - the SSE scanner and the usage tap give the same result however the body is cut into reads;
//   - the chunk filter's output does not depend on how its input is cut, and it never
//     invents bytes (its output is never longer than its input);
//   - an injected body asks for usage, so injecting again changes nothing.

#include "config.hpp"
#include "sse_scanner.hpp"
#include "stream_options_injector.hpp"
#include "usage_chunk_filter.hpp"
#include "usage_tap.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace tokenmeter;

constexpr std::string_view content_types[] = {"text/event-stream", "application/json", "application/x-ndjson", ""};
constexpr std::string_view encodings[] = {"", "gzip", "deflate", "br"};
constexpr api_schema schemas[] = {api_schema::openai_chat, api_schema::openai_responses,
                                  api_schema::anthropic_messages, api_schema::cohere_v2};

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

/// Cuts body into pieces whose sizes come from a small PRNG seeded by the selector.
template <class on_piece>
void in_pieces(std::string_view body, std::uint8_t seed, on_piece&& take) {
  std::uint32_t state = 0x9e3779b9u ^ seed;
  while (!body.empty()) {
    state = state * 1664525u + 1013904223u;
    const std::size_t size = std::min<std::size_t>(body.size(), 1 + (state >> 24) % 64);
    take(body.substr(0, size));
    body.remove_prefix(size);
  }
}

tap_result run_tap(std::uint8_t selector, std::string_view body, bool cut) {
  usage_pointers pointers;
  pointers.prompt = "/meta/in";
  pointers.completion = "/usage/0/out";
  pointers.cached = "/meta/cache~1hit";
  pointers.model = "/model";
  pointers.cumulative = (selector & 0x40) != 0;
  const bool custom = (selector & 0x80) != 0;
  usage_tap tap(schemas[selector & 3], content_types[(selector >> 2) & 3], encodings[(selector >> 4) & 3],
                custom ? &pointers : nullptr);
  if (cut) {
    in_pieces(body, selector, [&tap](std::string_view piece) { tap.feed(piece); });
  } else {
    tap.feed(body);
  }
  return tap.finish();
}

void fuzz_tap(std::uint8_t selector, std::string_view body) {
  const tap_result whole = run_tap(selector, body, false);
  const tap_result pieces = run_tap(selector, body, true);
  require(whole.usage == pieces.usage && whole.source == pieces.source && whole.model == pieces.model &&
          whole.stream_complete == pieces.stream_complete &&
          whole.provider_cost_pico_usd == pieces.provider_cost_pico_usd);
}

/// Every event the scanner yields, as type NUL data NUL, in order.
std::string scan(std::string_view body, std::uint8_t selector, bool cut) {
  sse_scanner scanner(1 + selector % 200);
  std::string events;
  const auto take = [&](std::string_view piece) {
    while (scanner.next(piece)) {
      events.append(scanner.event().type).push_back('\0');
      events.append(scanner.event().data).push_back('\0');
    }
  };
  if (cut) {
    in_pieces(body, selector, take);
  } else {
    take(body);
  }
  if (scanner.finish()) {
    events.append(scanner.event().type).push_back('\0');
    events.append(scanner.event().data).push_back('\0');
  }
  return events;
}

void fuzz_scanner(std::uint8_t selector, std::string_view body) {
  require(scan(body, selector, false) == scan(body, selector, true));
}

std::string filter(std::string_view body, std::uint8_t selector, bool cut) {
  usage_chunk_filter filter(32 + selector);
  std::string out;
  if (cut) {
    in_pieces(body, selector, [&](std::string_view piece) { filter.feed(piece, out); });
  } else {
    filter.feed(body, out);
  }
  filter.finish(out);
  return out;
}

void fuzz_filter(std::uint8_t selector, std::string_view body) {
  const std::string whole = filter(body, selector, false);
  require(whole.size() <= body.size());
  require(filter(body, selector, true) == whole);
}

void fuzz_injector(std::string_view body) {
  if (const auto injected = inject_include_usage(body)) {
    require(!inject_include_usage(*injected).has_value());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz_tap(selector, body);
  fuzz_scanner(selector, body);
  fuzz_filter(selector, body);
  fuzz_injector(body);
  return 0;
}
