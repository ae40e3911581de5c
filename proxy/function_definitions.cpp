#include "function_definitions.hpp"

#include <simdjson.h>

#include <algorithm>
#include <vector>

namespace tokenmeter {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

/// Schemas nest no deeper than this in practice; deeper levels render as `any`.
constexpr int max_depth = 16;

std::string_view string_field(element e, const char* key) {
  std::string_view s;
  return e[key].get(s) ? std::string_view{} : s;
}

bool is_required(object schema, std::string_view name) {
  array required;
  if (schema["required"].get(required)) return false;
  return std::any_of(required.begin(), required.end(), [&](element r) {
    std::string_view s;
    return !r.get(s) && s == name;
  });
}

std::string enum_values(array values) {
  std::string out;
  for (const element v : values) {
    if (!out.empty()) out += " | ";
    std::string_view s;
    if (!v.get(s)) out.append("\"").append(s).append("\"");
    else out += simdjson::minify(v);
  }
  return out;
}

std::string properties_of(object schema, int indent, int depth);

std::string type_of(element schema, int indent, int depth) {
  if (depth > max_depth) return "any";
  const std::string_view type = string_field(schema, "type");
  array values;
  const bool has_enum = !schema["enum"].get(values);
  if (type == "string" || type == "number" || type == "integer") {
    if (has_enum) return enum_values(values);
    return type == "string" ? "string" : "number";
  }
  if (type == "boolean" || type == "null") return std::string(type);
  if (type == "object") {
    object o;
    if (schema.get(o)) return "any";
    return "{\n" + properties_of(o, indent + 2, depth + 1) + "\n}";
  }
  if (type == "array") {
    element items;
    if (schema["items"].get(items)) return "any[]";
    return type_of(items, indent, depth + 1) + "[]";
  }
  return "any";
}

/// The lines of an object's properties, each indented; a nested object's own lines carry
/// their deeper indent.
std::string properties_of(object schema, int indent, int depth) {
  object properties;
  if (schema["properties"].get(properties)) return {};
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::string out;
  for (const auto field : properties) {
    const std::string_view description = string_field(field.value, "description");
    if (!description.empty()) out.append(out.empty() ? "" : "\n").append(pad).append("// ").append(description);
    out.append(out.empty() ? "" : "\n").append(pad).append(field.key);
    out.append(is_required(schema, field.key) ? ": " : "?: ");
    out.append(type_of(field.value, indent, depth)).append(",");
  }
  return out;
}

void render_function(element function, std::string& out) {
  const std::string_view description = string_field(function, "description");
  if (!description.empty()) out.append("// ").append(description).append("\n");
  const std::string_view name = string_field(function, "name");
  object parameters;
  object properties;
  if (!function["parameters"].get(parameters) && !parameters["properties"].get(properties) && properties.size() > 0) {
    out.append("type ").append(name).append(" = (_: {\n");
    out.append(properties_of(parameters, 0, 0)).append("\n}) => any;\n\n");
  } else {
    out.append("type ").append(name).append(" = () => any;\n\n");
  }
}

} // namespace

std::optional<std::string> render_function_namespace(std::string_view definitions) {
  // Estimation runs on the recorder's one worker thread; a parser per thread keeps it reusable.
  thread_local simdjson::dom::parser parser;
  array list;
  if (parser.parse(definitions.data(), definitions.size()).get(list)) return std::nullopt;
  std::string out = "namespace functions {\n\n";
  for (const element entry : list) {
    element function;
    // Chat Completions tools wrap each definition in {"type":"function","function":{…}}.
    if (entry["function"].get(function)) function = entry;
    if (string_field(function, "name").empty()) return std::nullopt;
    render_function(function, out);
  }
  out += "} // namespace functions";
  return out;
}

} // namespace tokenmeter
