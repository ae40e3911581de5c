#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

/// OpenAI models do not see a request's tool definitions as JSON: the API renders them into
/// the prompt as a TypeScript namespace (the format OpenAI's harmony documentation shows for
/// its models, and the one whose token counts match what the API reports):
///
///     namespace functions {
///
///     // Get the weather
///     type get_weather = (_: {
///     // City name
///     city: string,
///     unit?: "c" | "f",
///     }) => any;
///
///     } // namespace functions
///
/// `definitions` is the JSON of a request's `tools` (`[{"type":"function","function":{…}}]`)
/// or legacy `functions` (`[{…}]`) array. nullopt when it is not such an array: the caller then
/// counts the JSON text instead.
std::optional<std::string> render_function_namespace(std::string_view definitions);

} // namespace tokenmeter
