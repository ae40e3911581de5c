#include "sse_scanner.hpp"

#include <cstring>

namespace tokenmeter {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

} // namespace

sse_scanner::sse_scanner(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

bool sse_scanner::next(std::string_view& input) {
  const bool dispatched = scan(input);
  if (!dispatched) {
    // The input is used up: a later one may reuse its memory, so forget where its LF was.
    lf_end_ = nullptr;
  }
  return dispatched;
}

bool sse_scanner::scan(std::string_view& input) {
  start_event();
  if (!bom_done_ && !skip_bom(input)) {
    return false;
  }
  while (!input.empty()) {
    if (prev_cr_) {
      prev_cr_ = false;
      if (input.front() == '\n') {
        input.remove_prefix(1);
        continue;
      }
    }
    const std::size_t eol = find_line_end(input);
    if (eol == std::string_view::npos) {
      append_to_line(input);
      input = {};
      return false;
    }
    const std::string_view piece = input.substr(0, eol);
    prev_cr_ = input[eol] == '\r';
    input.remove_prefix(eol + 1);

    bool dispatched = false;
    if (overlong_line_) {
      overlong_line_ = false;
    } else if (line_.empty()) {
      // The common case: the whole line arrived in this piece, so it is never copied.
      if (piece.size() > max_line_bytes_) {
        ++dropped_lines_;
        event_damaged_ = true;
      } else {
        dispatched = process_line(piece);
      }
    } else {
      append_to_line(piece);
      if (!overlong_line_) {
        dispatched = process_line(line_);
      }
      overlong_line_ = false;
      line_.clear();
    }
    if (dispatched) {
      return true;
    }
  }
  return false;
}

bool sse_scanner::finish() {
  start_event();
  if (!line_.empty() && !overlong_line_) {
    process_line(line_);
  }
  line_.clear();
  overlong_line_ = false;
  prev_cr_ = false;
  return dispatch();
}

std::size_t sse_scanner::find_line_end(std::string_view input) {
  // Two memchr passes instead of find_first_of, which tests every byte against the set.
  // The LF found is remembered for the rest of this input, so lines ended by lone CRs do
  // not rescan up to the same distant LF each time.
  const char* begin = input.data();
  const char* end = begin + input.size();
  if (end != lf_end_ || begin < lf_from_ || (lf_ != nullptr && lf_ < begin)) {
    lf_ = static_cast<const char*>(std::memchr(begin, '\n', input.size()));
    lf_from_ = begin;
    lf_end_ = end;
  }
  const char* limit = lf_ != nullptr ? lf_ : end;
  const auto* cr = static_cast<const char*>(std::memchr(begin, '\r', static_cast<std::size_t>(limit - begin)));
  const char* eol = cr != nullptr ? cr : lf_;
  return eol != nullptr ? static_cast<std::size_t>(eol - begin) : std::string_view::npos;
}

bool sse_scanner::skip_bom(std::string_view& input) {
  while (!input.empty() && bom_matched_ < utf8_bom.size()) {
    if (input.front() != utf8_bom[bom_matched_]) {
      // Not a BOM after all: the bytes taken so far belong to the first line.
      line_.append(utf8_bom.substr(0, bom_matched_));
      bom_done_ = true;
      return true;
    }
    ++bom_matched_;
    input.remove_prefix(1);
  }
  bom_done_ = bom_matched_ == utf8_bom.size();
  return bom_done_;
}

void sse_scanner::append_to_line(std::string_view piece) {
  if (overlong_line_) {
    return;
  }
  if (line_.size() + piece.size() > max_line_bytes_) {
    ++dropped_lines_;
    overlong_line_ = true;
    event_damaged_ = true;
    line_.clear();
    return;
  }
  line_.append(piece);
}

bool sse_scanner::process_line(std::string_view line) {
  if (line.empty()) {
    return dispatch();
  }
  if (line.front() == ':') {
    return false;
  }
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (field == "data") {
    const std::size_t joined = data_.size() + (has_data_ ? 1 : 0) + value.size();
    if (joined > max_line_bytes_) {
      event_damaged_ = true;
      return false;
    }
    if (has_data_) {
      data_.push_back('\n');
    }
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  }
  return false;
}

bool sse_scanner::dispatch() {
  // A blank line ends the event even when it had no data: its type is forgotten too.
  reset_pending_ = true;
  if (has_data_ && !event_damaged_) {
    event_ = sse_event{type_, data_};
    return true;
  }
  start_event();
  return false;
}

void sse_scanner::start_event() {
  if (!reset_pending_) {
    return;
  }
  reset_pending_ = false;
  data_.clear();
  type_.clear();
  event_ = {};
  has_data_ = false;
  event_damaged_ = false;
}

} // namespace tokenmeter
