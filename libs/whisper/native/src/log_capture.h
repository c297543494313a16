// Routes whisper.cpp / ggml logging: silent by default, errors kept per thread so
// a failed call can report *why* it failed instead of a bare return code.
#pragma once

#include <string>

namespace whisper_addon {

// Installs the log callback for whisper.cpp and ggml. With forward_to_stderr the
// original output is still printed (debugging aid, env WHISPER_LOG=1).
void InstallLogHandler(bool forward_to_stderr);

// Drops errors recorded on the calling thread; call before a whisper.cpp call.
void ClearThreadErrors();

// Errors whisper.cpp logged on the calling thread since the last clear, trimmed.
std::string TakeThreadErrors();

// "<what>: <logged errors>" or just "<what>" when nothing was logged.
std::string WithThreadErrors(const std::string& what);

}  // namespace whisper_addon
