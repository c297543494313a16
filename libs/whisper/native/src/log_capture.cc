#include "log_capture.h"

#include <atomic>
#include <cstdio>

#include "whisper.h"

namespace whisper_addon {
namespace {

// Long enough for a few error lines, short enough to keep messages readable.
constexpr size_t kMaxCapturedChars = 1024;

std::atomic<bool> g_forward{false};

// whisper.cpp logs synchronously on the thread doing the work, so a thread-local
// buffer attributes errors to the call that caused them, even with concurrent calls.
thread_local std::string t_errors;
thread_local ggml_log_level t_last_level = GGML_LOG_LEVEL_NONE;

void OnLog(ggml_log_level level, const char* text, void* /*user_data*/) {
  if (text == nullptr) return;
  // CONT continues the previous message at the previous level.
  const ggml_log_level effective = level == GGML_LOG_LEVEL_CONT ? t_last_level : level;
  t_last_level = effective;
  if (effective == GGML_LOG_LEVEL_ERROR && t_errors.size() < kMaxCapturedChars) {
    t_errors.append(text, 0, kMaxCapturedChars - t_errors.size());
  }
  if (g_forward.load(std::memory_order_relaxed)) {
    std::fputs(text, stderr);
  }
}

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

void InstallLogHandler(bool forward_to_stderr) {
  g_forward.store(forward_to_stderr, std::memory_order_relaxed);
  // whisper_log_set forwards the callback to ggml_log_set as well.
  whisper_log_set(OnLog, nullptr);
}

void ClearThreadErrors() {
  t_errors.clear();
}

std::string TakeThreadErrors() {
  const std::string logged = Trim(t_errors);
  t_errors.clear();
  // Multi-line errors read better as one line inside an Error message.
  std::string out;
  out.reserve(logged.size());
  for (const char c : logged) {
    if (c == '\n') {
      out += "; ";
    } else {
      out += c;
    }
  }
  return out;
}

std::string WithThreadErrors(const std::string& what) {
  const std::string logged = TakeThreadErrors();
  return logged.empty() ? what : what + ": " + logged;
}

}  // namespace whisper_addon
