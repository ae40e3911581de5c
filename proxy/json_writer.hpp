#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tokenmeter {

/// Builds compact JSON text in one string; the caller keeps objects and arrays balanced.
class json_writer {
public:
  /// Opens an object: `{`.
  void begin_object();
  /// Closes the innermost object: `}`.
  void end_object();
  /// Opens an array: `[`.
  void begin_array();
  /// Closes the innermost array: `]`.
  void end_array();
  /// Writes an object key; the next call writes its value.
  void key(std::string_view name);
  /// Writes a string value, escaped per RFC 8259; invalid UTF-8 becomes U+FFFD.
  void string(std::string_view value);
  /// Writes a signed integer value.
  void integer(std::int64_t value);
  /// Writes text that is already a valid JSON number, such as an exact decimal.
  void number(std::string_view json_number);
  /// Writes `true` or `false`.
  void boolean(bool value);
  /// Writes `null`.
  void null();
  /// The text written so far; the writer is empty afterwards.
  std::string take();

private:
  /// Adds the comma that separates this value or key from the previous one.
  void separate();
  /// Writes `text` as a quoted JSON string.
  void append_escaped(std::string_view text);

  std::string out_;
  bool needs_comma_ = false; ///< a value was written at the current nesting level
};

} // namespace tokenmeter
