#include "error_response.hpp"

#include "json_writer.hpp"

#include <boost/beast/http/field.hpp>

namespace tokenmeter {

namespace http = boost::beast::http;

http::response<http::string_body> make_error_response(http::status status, std::string_view message,
                                                       std::string_view code, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "tokenmeter");
  res.set(http::field::content_type, "application/json");
  json_writer json;
  json.begin_object();
  json.key("error");
  json.begin_object();
  json.key("message");
  json.string(message);
  json.key("type");
  json.string("tokenmeter_error");
  json.key("code");
  json.string(code);
  json.end_object();
  json.end_object();
  res.body() = json.take();
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

} // namespace tokenmeter
