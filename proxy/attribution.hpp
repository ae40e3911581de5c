#pragma once

#include "config.hpp"

#include <boost/beast/http/fields.hpp>

#include <string>
#include <string_view>

namespace tokenmeter {

/// What an exchange is attributed to, as read from the agent's request.
struct request_tags {
  std::string session_id;    ///< the session header, sanitised; empty when absent
  std::string node;          ///< the node header, sanitised; empty when absent
  std::string request_model; ///< the request body's "model", else an Azure deployment name
  bool stream = false;       ///< the request body asked for a stream
};

/// A tag value safe for logs, CSV and labels: control characters become '?', the
/// value is cut to `max_length` bytes without splitting a UTF-8 sequence.
std::string sanitize_tag(std::string_view value, std::size_t max_length);

/// The deployment of an Azure OpenAI path (.../openai/deployments/{name}/...), empty if none.
std::string_view azure_deployment(std::string_view path) noexcept;

/// Reads the tag headers, and the model and stream flag of a JSON request body; a request
/// without a body model to an Azure deployment path is attributed to the deployment name.
request_tags read_request_tags(const boost::beast::http::fields& headers, const std::string& body,
                               const config& cfg, std::string_view path = {});

} // namespace tokenmeter
