#include "tokenizer_set.hpp"

#include "log.hpp"

#include <malloc.h>

#include <filesystem>

namespace tokenmeter {

namespace {

struct vocabulary_file {
  vocabulary id;
  std::string_view name;
  std::string_view file;
  split_pattern pattern;
};

constexpr std::array<vocabulary_file, 3> files = {{
    {vocabulary::o200k, "o200k", "o200k_base.tiktoken", split_pattern::o200k},
    {vocabulary::cl100k, "cl100k", "cl100k_base.tiktoken", split_pattern::cl100k},
    {vocabulary::llama3, "llama3", "llama3.tiktoken", split_pattern::cl100k},
}};

} // namespace

std::string_view to_string(vocabulary v) noexcept { return files[static_cast<std::size_t>(v)].name; }

std::optional<vocabulary> parse_vocabulary(std::string_view name) noexcept {
  for (const auto& f : files)
    if (f.name == name) return f.id;
  return std::nullopt;
}

std::string tokenizer_set::directory_for(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "vocab";
  const auto beside = exe.parent_path() / "vocab";
  if (std::filesystem::is_directory(beside, ec)) return beside.string();
  const auto installed = (exe.parent_path() / "../share/tokenmeter/vocab").lexically_normal();
  if (std::filesystem::is_directory(installed, ec)) return installed.string();
  // A binary built elsewhere from this source tree (a sanitizer build, say) uses the tree's set-up.
  return TOKENMETER_SOURCE_VOCAB_DIR;
}

tokenizer_set tokenizer_set::load(const std::string& directory) {
  tokenizer_set set;
  std::string missing;
  for (const auto& f : files) {
    const auto path = (std::filesystem::path(directory) / f.file).string();
    std::string error;
    auto ranks = bpe_ranks::load(path, error);
    if (!ranks) {
      missing += (missing.empty() ? "" : ",") + std::string(f.name);
      log_line(log_level::debug, "vocabulary_unavailable").kv("vocabulary", f.name).kv("error", error);
      continue;
    }
    log_line(log_level::info, "vocabulary_loaded").kv("vocabulary", f.name).kv("tokens", ranks->size());
    set.add(f.id, std::make_unique<const tokenizer>(std::move(*ranks), f.pattern));
  }
  // Parsing left megabytes of freed temporaries (file text, token list) in the heap: give them
  // back, so that an idle proxy's RSS is its tables, not its start-up.
  malloc_trim(0);
  if (!missing.empty())
    log_line(log_level::warn, "vocabularies_missing")
        .kv("directory", directory)
        .kv("vocabularies", missing)
        .kv("detail", "estimates for these use 4 characters per token (source estimated_fallback); run scripts/setup.sh");
  return set;
}

void tokenizer_set::add(vocabulary v, std::unique_ptr<const tokenizer> t) {
  tokenizers_[static_cast<std::size_t>(v)] = std::move(t);
}

const tokenizer* tokenizer_set::find(vocabulary v) const noexcept {
  return tokenizers_[static_cast<std::size_t>(v)].get();
}

} // namespace tokenmeter
