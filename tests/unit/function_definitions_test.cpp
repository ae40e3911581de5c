#include "function_definitions.hpp"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(FunctionDefinitions, RendersAFunctionWithoutParametersAsANullaryType) {
  EXPECT_EQ(render_function_namespace(R"([{"name":"ping","parameters":{"type":"object","properties":{}}}])"),
            "namespace functions {\n\ntype ping = () => any;\n\n} // namespace functions");
}

TEST(FunctionDefinitions, UnwrapsChatCompletionsToolsAndKeepsTheDescription) {
  EXPECT_EQ(render_function_namespace(R"([{"type":"function","function":{"name":"ping","description":"Check it"}}])"),
            "namespace functions {\n\n// Check it\ntype ping = () => any;\n\n} // namespace functions");
}

TEST(FunctionDefinitions, MarksOptionalPropertiesAndWritesEnumsAsUnions) {
  EXPECT_EQ(render_function_namespace(
                R"([{"name":"weather","parameters":{"type":"object","required":["city"],"properties":{)"
                R"("city":{"type":"string","description":"City name"},)"
                R"("unit":{"type":"string","enum":["c","f"]},"days":{"type":"integer","enum":[1,3]}}}}])"),
            "namespace functions {\n\ntype weather = (_: {\n// City name\ncity: string,\nunit?: \"c\" | \"f\",\n"
            "days?: 1 | 3,\n}) => any;\n\n} // namespace functions");
}

TEST(FunctionDefinitions, IndentsNestedObjectsAndSuffixesArrays) {
  EXPECT_EQ(render_function_namespace(
                R"([{"name":"f","parameters":{"type":"object","properties":{)"
                R"("o":{"type":"object","properties":{"b":{"type":"boolean"}}},)"
                R"("l":{"type":"array","items":{"type":"number"}},"x":{"type":"array"},"y":{"anyOf":[]}}}}])"),
            "namespace functions {\n\ntype f = (_: {\no?: {\n  b?: boolean,\n},\nl?: number[],\nx?: any[],\ny?: any,\n"
            "}) => any;\n\n} // namespace functions");
}

TEST(FunctionDefinitions, GivesNothingForDefinitionsThatAreNotNamedFunctions) {
  EXPECT_EQ(render_function_namespace(R"({"name":"f"})"), std::nullopt);
  EXPECT_EQ(render_function_namespace(R"([{"a":1}])"), std::nullopt);
  EXPECT_EQ(render_function_namespace("not json"), std::nullopt);
}

} // namespace
} // namespace tokenmeter
