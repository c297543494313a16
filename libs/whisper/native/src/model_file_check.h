// Structural check of a whisper.cpp ggml model file before whisper.cpp parses it.
// whisper.cpp trusts the file: a truncated or corrupted model can load as garbage
// weights, overflow a stack array (tensor n_dims) or hit a GGML_ASSERT that aborts
// the whole process. Walking the layout first turns all of that into an error message.
#pragma once

#include <string>

namespace whisper_addon {

// Empty when the file looks like a complete whisper ggml model, else the reason it does not.
std::string CheckModelFile(const std::string& path);

}  // namespace whisper_addon
