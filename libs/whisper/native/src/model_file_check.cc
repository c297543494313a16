#include "model_file_check.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "ggml.h"

namespace whisper_addon {
namespace {

// Generous bounds: far above any released whisper model, low enough to reject garbage
// before it turns into huge allocations.
constexpr int32_t kMinVocab = 51864;  // whisper's special token ids assume at least this
constexpr int32_t kMaxVocab = 1 << 20;
constexpr int32_t kMaxCtx = 1 << 16;
constexpr int32_t kMaxState = 1 << 15;
constexpr int32_t kMaxLayers = 1024;
constexpr int32_t kMaxMels = 1024;
constexpr int32_t kMaxFft = 1 << 16;
constexpr uint32_t kMaxTokenBytes = 1 << 12;
constexpr int32_t kMaxTensorName = 1 << 10;
constexpr int32_t kMaxDims = 4;  // whisper.cpp reads dims into int32_t[4]

class InvalidModel : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sequential reader that refuses to run past the end of the file.
class Reader {
 public:
  explicit Reader(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) throw InvalidModel("cannot open file");
    in_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(in_.tellg());
    in_.seekg(0, std::ios::beg);
  }

  template <typename T>
  T Read(const char* what) {
    T value{};
    Need(sizeof(T), what);
    in_.read(reinterpret_cast<char*>(&value), sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  void Skip(uint64_t bytes, const char* what) {
    Need(bytes, what);
    pos_ += bytes;
    in_.seekg(static_cast<std::streamoff>(pos_), std::ios::beg);
  }

  bool AtEnd() const { return pos_ == size_; }

 private:
  void Need(uint64_t bytes, const char* what) {
    if (bytes > size_ - pos_) {
      throw InvalidModel(std::string("file is truncated (in ") + what + ")");
    }
  }

  std::ifstream in_;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
};

void CheckRange(int32_t value, int32_t min, int32_t max, const char* name) {
  if (value < min || value > max) {
    throw InvalidModel(std::string("implausible ") + name + " = " + std::to_string(value));
  }
}

// Mirrors the cases ggml_ftype_to_ggml_type accepts; anything else would GGML_ASSERT.
bool IsLoadableFtype(int32_t ftype) {
  switch (static_cast<ggml_ftype>(ftype)) {
    case GGML_FTYPE_ALL_F32:
    case GGML_FTYPE_MOSTLY_F16:
    case GGML_FTYPE_MOSTLY_BF16:
    case GGML_FTYPE_MOSTLY_Q4_0:
    case GGML_FTYPE_MOSTLY_Q4_1:
    case GGML_FTYPE_MOSTLY_Q1_0:
    case GGML_FTYPE_MOSTLY_Q5_0:
    case GGML_FTYPE_MOSTLY_Q5_1:
    case GGML_FTYPE_MOSTLY_Q8_0:
    case GGML_FTYPE_MOSTLY_MXFP4:
    case GGML_FTYPE_MOSTLY_NVFP4:
    case GGML_FTYPE_MOSTLY_Q2_K:
    case GGML_FTYPE_MOSTLY_Q3_K:
    case GGML_FTYPE_MOSTLY_Q4_K:
    case GGML_FTYPE_MOSTLY_Q5_K:
    case GGML_FTYPE_MOSTLY_Q6_K:
    case GGML_FTYPE_MOSTLY_IQ2_XXS:
    case GGML_FTYPE_MOSTLY_IQ2_XS:
    case GGML_FTYPE_MOSTLY_IQ3_XXS:
    case GGML_FTYPE_MOSTLY_IQ1_S:
    case GGML_FTYPE_MOSTLY_IQ1_M:
    case GGML_FTYPE_MOSTLY_IQ4_NL:
    case GGML_FTYPE_MOSTLY_IQ4_XS:
    case GGML_FTYPE_MOSTLY_IQ3_S:
    case GGML_FTYPE_MOSTLY_IQ2_S:
      return true;
    default:
      return false;
  }
}

void CheckHeader(Reader& r) {
  if (r.Read<uint32_t>("magic") != GGML_FILE_MAGIC) {
    throw InvalidModel("not a ggml whisper model (bad magic)");
  }
  const auto n_vocab = r.Read<int32_t>("hparams");
  const auto n_audio_ctx = r.Read<int32_t>("hparams");
  const auto n_audio_state = r.Read<int32_t>("hparams");
  const auto n_audio_head = r.Read<int32_t>("hparams");
  const auto n_audio_layer = r.Read<int32_t>("hparams");
  const auto n_text_ctx = r.Read<int32_t>("hparams");
  const auto n_text_state = r.Read<int32_t>("hparams");
  const auto n_text_head = r.Read<int32_t>("hparams");
  const auto n_text_layer = r.Read<int32_t>("hparams");
  const auto n_mels = r.Read<int32_t>("hparams");
  const auto ftype = r.Read<int32_t>("hparams");

  CheckRange(n_vocab, kMinVocab, kMaxVocab, "n_vocab");
  CheckRange(n_audio_ctx, 1, kMaxCtx, "n_audio_ctx");
  CheckRange(n_audio_state, 1, kMaxState, "n_audio_state");
  CheckRange(n_audio_head, 1, n_audio_state, "n_audio_head");
  CheckRange(n_audio_layer, 1, kMaxLayers, "n_audio_layer");
  CheckRange(n_text_ctx, 1, kMaxCtx, "n_text_ctx");
  CheckRange(n_text_state, 1, kMaxState, "n_text_state");
  CheckRange(n_text_head, 1, n_text_state, "n_text_head");
  CheckRange(n_text_layer, 1, kMaxLayers, "n_text_layer");
  CheckRange(n_mels, 1, kMaxMels, "n_mels");
  if (n_text_state != n_audio_state) {
    throw InvalidModel("n_text_state differs from n_audio_state");
  }
  if (n_audio_state % n_audio_head != 0 || n_text_state % n_text_head != 0) {
    throw InvalidModel("state size is not divisible by the head count");
  }
  if (ftype < 0 || !IsLoadableFtype(ftype % GGML_QNT_VERSION_FACTOR)) {
    throw InvalidModel("unsupported ftype " + std::to_string(ftype));
  }
}

void CheckMelFiltersAndVocab(Reader& r) {
  const auto n_mel = r.Read<int32_t>("mel filters");
  const auto n_fft = r.Read<int32_t>("mel filters");
  CheckRange(n_mel, 1, kMaxMels, "filters.n_mel");
  CheckRange(n_fft, 1, kMaxFft, "filters.n_fft");
  r.Skip(static_cast<uint64_t>(n_mel) * static_cast<uint64_t>(n_fft) * sizeof(float), "mel filters");

  const auto n_tokens = r.Read<int32_t>("vocab");
  CheckRange(n_tokens, 0, kMaxVocab, "vocab size");
  for (int32_t i = 0; i < n_tokens; ++i) {
    const auto len = r.Read<uint32_t>("vocab");
    if (len > kMaxTokenBytes) {
      throw InvalidModel("implausible token length in vocab");
    }
    r.Skip(len, "vocab");
  }
}

void CheckTensors(Reader& r) {
  int tensors = 0;
  while (!r.AtEnd()) {
    const auto n_dims = r.Read<int32_t>("tensor header");
    const auto name_len = r.Read<int32_t>("tensor header");
    const auto ttype = r.Read<int32_t>("tensor header");
    CheckRange(n_dims, 1, kMaxDims, "tensor n_dims");
    CheckRange(name_len, 1, kMaxTensorName, "tensor name length");
    if (ttype < 0 || ttype >= GGML_TYPE_COUNT) {
      throw InvalidModel("unknown tensor type " + std::to_string(ttype));
    }
    const auto type = static_cast<ggml_type>(ttype);
    const uint64_t block = static_cast<uint64_t>(ggml_blck_size(type));
    const uint64_t type_size = ggml_type_size(type);
    if (block == 0 || type_size == 0) {  // retired ggml types
      throw InvalidModel("unsupported tensor type " + std::to_string(ttype));
    }

    uint64_t elements = 1;
    for (int32_t d = 0; d < n_dims; ++d) {
      const auto ne = r.Read<int32_t>("tensor shape");
      CheckRange(ne, 1, std::numeric_limits<int32_t>::max(), "tensor dimension");
      elements *= static_cast<uint64_t>(ne);
    }
    // whisper.cpp counts elements in an int32_t.
    if (elements > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) || elements % block != 0) {
      throw InvalidModel("implausible tensor shape");
    }
    r.Skip(static_cast<uint64_t>(name_len), "tensor name");
    r.Skip(elements / block * type_size, "tensor data");
    ++tensors;
  }
  if (tensors == 0) {
    // whisper.cpp would accept this as an "empty model for testing" with garbage weights.
    throw InvalidModel("file contains no tensors (truncated?)");
  }
}

}  // namespace

std::string CheckModelFile(const std::string& path) {
  try {
    Reader reader(path);
    CheckHeader(reader);
    CheckMelFiltersAndVocab(reader);
    CheckTensors(reader);
    return {};
  } catch (const InvalidModel& e) {
    return e.what();
  }
}

}  // namespace whisper_addon
