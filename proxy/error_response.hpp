#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

namespace tokenmeter {

/// A response tokenmeter itself produces, in the OpenAI error shape
/// {"error":{"message","type","code"}} that agent SDKs already understand.
boost::beast::http::response<boost::beast::http::string_body>
make_error_response(boost::beast::http::status status, std::string_view message, std::string_view code,
                    unsigned version, bool keep_alive);

} // namespace tokenmeter
