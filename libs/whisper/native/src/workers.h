// Promise-returning jobs for the libuv thread pool. Inputs are copied on the JS
// thread before queueing and results are plain C++ values until OnOK, so nothing
// in Execute() touches JS memory.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "whisper.h"

namespace whisper_addon {

class Model;

// Error.code values the TypeScript facade maps to typed errors.
inline constexpr const char* kAbortedCode = "WHISPER_ABORTED";
inline constexpr const char* kFreedCode = "WHISPER_FREED";

// Base for jobs that settle a promise; subclasses fill Resolved() or call Fail().
class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  PromiseWorker(Napi::Env env, const char* resource_name);
  // Settles a promise that was handed out earlier (see Model::Free).
  PromiseWorker(Napi::Env env, const char* resource_name, Napi::Promise::Deferred deferred);

  void Fail(const std::string& message, const char* code = nullptr);
  virtual Napi::Value Resolved(Napi::Env env) = 0;
  // Runs on the JS thread right before the promise settles.
  virtual void Settling() {}

 private:
  void OnOK() final;
  void OnError(const Napi::Error& error) final;

  Napi::Promise::Deferred deferred_;
  const char* error_code_ = nullptr;
};

class LoadWorker final : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, whisper_context_params params);
  ~LoadWorker() override;

 private:
  void Execute() override;
  Napi::Value Resolved(Napi::Env env) override;

  std::string path_;
  whisper_context_params params_;
  whisper_context* ctx_ = nullptr;
  double size_bytes_ = 0;
};

// Takes ownership of ctx; whisper_free runs off the JS thread (large models take a while).
class FreeWorker final : public PromiseWorker {
 public:
  FreeWorker(Napi::Env env, whisper_context* ctx, Napi::Promise::Deferred deferred);

 private:
  void Execute() override;
  Napi::Value Resolved(Napi::Env env) override;

  whisper_context* ctx_;
};

// A call on a loaded model: keeps the JS wrapper alive and reports completion to it.
class ModelCallWorker : public PromiseWorker {
 protected:
  ModelCallWorker(Napi::Env env, const char* resource_name, Model* model, Napi::Object model_object,
                  whisper_context* ctx);
  ~ModelCallWorker() override;

  void Settling() override;

  whisper_context* ctx_;

 private:
  void EndCallOnce();

  Model* model_;
  Napi::ObjectReference model_ref_;
  bool ended_ = false;
};

class DetectLanguageWorker final : public ModelCallWorker {
 public:
  DetectLanguageWorker(Napi::Env env, Model* model, Napi::Object model_object, whisper_context* ctx,
                       std::vector<float> pcm, int threads, int language_count);

 private:
  void Execute() override;
  Napi::Value Resolved(Napi::Env env) override;

  std::vector<float> pcm_;
  int threads_;
  int language_count_;
  std::vector<float> probs_;
};

struct TranscribeOptions {
  std::string language;  // empty = let whisper.cpp detect it
  int threads = 1;
  int beam_size = 5;
  std::string initial_prompt;
  bool translate = false;
  // whisper-cli's defaults: 0, then +0.2 up to 1 when a window fails its checks
  float temperature = 0.0f;
  float temperature_inc = 0.2f;
  int best_of = 5;
  float no_speech_thold = 0.6f;
  bool condition_on_previous_text = true;
};

// What whisper_full was actually given (read back from the struct), so callers can see it.
struct UsedParams {
  bool translate = false;
  bool beam_search = false;
  int beam_size = 0;
  int best_of = 0;
  float temperature = 0;
  float temperature_inc = 0;
  float no_speech_thold = 0;
  bool no_context = true;
  bool carry_initial_prompt = false;
  int n_max_text_ctx = 0;
  int n_prompt_tokens = 0;
  std::string language;
};

struct TokenResult {
  int id = 0;
  std::string text;
  float p = 0;
  float plog = 0;
  int64_t t0 = 0;  // centiseconds, as whisper.cpp reports them
  int64_t t1 = 0;
};

struct SegmentResult {
  int64_t t0 = 0;  // centiseconds
  int64_t t1 = 0;
  std::string text;
  float no_speech_prob = 0;
  double avg_logprob = 0;
  std::vector<TokenResult> tokens;
};

void DeliverProgress(Napi::Env env, Napi::Function callback, std::nullptr_t* context, int* percent);
using ProgressFunction = Napi::TypedThreadSafeFunction<std::nullptr_t, int, DeliverProgress>;

class TranscribeWorker final : public ModelCallWorker {
 public:
  TranscribeWorker(Napi::Env env, Model* model, Napi::Object model_object, whisper_context* ctx,
                   std::vector<float> pcm, TranscribeOptions options,
                   std::shared_ptr<std::atomic<bool>> abort_flag, std::optional<ProgressFunction> progress);
  ~TranscribeWorker() override;

 private:
  void Execute() override;
  Napi::Value Resolved(Napi::Env env) override;

  void Transcribe();
  whisper_full_params DecodingParams();
  void CollectResults(whisper_state* state);
  void ReportProgress(int percent);
  void ReleaseProgress();

  static void OnWhisperProgress(whisper_context* ctx, whisper_state* state, int progress, void* user_data);
  static bool OnWhisperAbortCheck(void* user_data);
  static bool OnWhisperEncoderBegin(whisper_context* ctx, whisper_state* state, void* user_data);

  std::vector<float> pcm_;
  TranscribeOptions options_;
  std::shared_ptr<std::atomic<bool>> abort_flag_;
  std::optional<ProgressFunction> progress_;
  int last_progress_ = -1;

  std::string language_;
  std::vector<SegmentResult> segments_;
  std::vector<whisper_token> prompt_tokens_;
  UsedParams used_;
};

}  // namespace whisper_addon
