#include "usage_chunk_filter.hpp"

#include "ondemand_support.hpp"

#include <cstring>
#include <utility>

namespace tokenmeter {

namespace {

namespace od = simdjson::ondemand;

/// The next CR or LF in bytes, or npos.
std::size_t find_line_end(std::string_view bytes) noexcept {
  const auto* lf = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
  const std::size_t limit = lf != nullptr ? static_cast<std::size_t>(lf - bytes.data()) : bytes.size();
  const auto* cr = static_cast<const char*>(std::memchr(bytes.data(), '\r', limit));
  if (cr != nullptr) {
    return static_cast<std::size_t>(cr - bytes.data());
  }
  return lf != nullptr ? limit : std::string_view::npos;
}

/// Whether a parsed payload is {"choices": [], "usage": {...}} at its top level.
bool is_usage_only_payload(od::document& document) {
  od::object root;
  if (document.get_object().get(root) != simdjson::SUCCESS) {
    return false;
  }
  bool empty_choices = false;
  bool usage_object = false;
  for (auto member : root) {
    od::field field;
    std::string_view key;
    if (std::move(member).get(field) != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return false;
    }
    od::json_type type;
    if (key == "choices") {
      od::array choices;
      bool empty = false;
      empty_choices = field.value().get_array().get(choices) == simdjson::SUCCESS &&
                      choices.is_empty().get(empty) == simdjson::SUCCESS && empty;
    } else if (key == "usage") {
      usage_object = field.value().type().get(type) == simdjson::SUCCESS && type == od::json_type::object;
    }
  }
  return empty_choices && usage_object && at_document_end(document);
}

} // namespace

usage_chunk_filter::usage_chunk_filter(std::size_t max_held_bytes) : max_held_bytes_(max_held_bytes) {}

void usage_chunk_filter::feed(std::string_view bytes, std::string& out) {
  while (!bytes.empty()) {
    if (prev_cr_) {
      prev_cr_ = false;
      const pending_lf lf = std::exchange(after_cr_, pending_lf::hold);
      if (bytes.front() == '\n') {
        if (lf == pending_lf::hold) hold(bytes.substr(0, 1), out);
        if (lf == pending_lf::emit) out.push_back('\n');
        bytes.remove_prefix(1);
        continue;
      }
    }
    const std::size_t eol = find_line_end(bytes);
    if (eol == std::string_view::npos) {
      line_has_bytes_ = true;
      hold(bytes, out);
      return;
    }
    const bool blank = eol == 0 && !line_has_bytes_;
    hold(bytes.substr(0, eol + 1), out);
    prev_cr_ = bytes[eol] == '\r';
    after_cr_ = pending_lf::hold;
    bytes.remove_prefix(eol + 1);
    line_has_bytes_ = false;
    if (blank) {
      end_event(out);
    }
  }
}

void usage_chunk_filter::finish(std::string& out) {
  end_event(out);
  line_has_bytes_ = false;
  prev_cr_ = false;
  after_cr_ = pending_lf::hold;
}

void usage_chunk_filter::hold(std::string_view bytes, std::string& out) {
  if (passing_) {
    out.append(bytes);
    return;
  }
  if (held_.size() + bytes.size() > max_held_bytes_) {
    passing_ = true;
    out.append(held_);
    out.append(bytes);
    held_.clear();
    return;
  }
  held_.append(bytes);
}

void usage_chunk_filter::end_event(std::string& out) {
  // A CRLF that ends the event may arrive split: its LF follows the event, not the next one.
  if (passing_) {
    passing_ = false;
    after_cr_ = pending_lf::emit;
    return;
  }
  if (is_usage_only_event()) {
    ++removed_events_;
    after_cr_ = pending_lf::drop;
  } else {
    out.append(held_);
    after_cr_ = pending_lf::emit;
  }
  held_.clear();
}

bool usage_chunk_filter::is_usage_only_event() {
  // Most events are content deltas: a byte search rules them out without parsing.
  const std::string_view event = held_;
  if (event.find("\"usage\"") == std::string_view::npos || event.find("\"choices\"") == std::string_view::npos) {
    return false;
  }
  data_.clear();
  bool has_data = false;
  std::string_view rest = event;
  while (!rest.empty()) {
    std::size_t eol = find_line_end(rest);
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    const std::size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    if (colon == 0 || line.empty()) {
      continue;
    }
    if (field != "data") {
      // An event: line names a dialect other than Chat Completions chunks.
      if (field == "event") {
        return false;
      }
      continue;
    }
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (has_data) {
      data_.push_back('\n');
    }
    data_.append(value);
    has_data = true;
  }
  if (!has_data) {
    return false;
  }
  const std::size_t size = data_.size();
  data_.resize(size + simdjson::SIMDJSON_PADDING, ' ');
  od::document document;
  const bool usage_only = thread_json_parser().iterate(data_.data(), size, data_.size()).get(document) == simdjson::SUCCESS &&
                          is_usage_only_payload(document);
  data_.resize(size);
  return usage_only;
}

} // namespace tokenmeter
