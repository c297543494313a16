#include "workers.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "log_capture.h"
#include "model_file_check.h"
#include "model.h"

namespace whisper_addon {
namespace {

struct StateDeleter {
  void operator()(whisper_state* state) const { whisper_free_state(state); }
};
using StatePtr = std::unique_ptr<whisper_state, StateDeleter>;

StatePtr NewState(whisper_context* ctx) {
  StatePtr state(whisper_init_state(ctx));
  if (!state) {
    throw std::runtime_error(WithThreadErrors("whisper_init_state failed (out of memory?)"));
  }
  return state;
}

// glibc keeps freed heap pages mapped; hand them back so RSS drops after free().
void ReturnFreedMemoryToOs() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

// ---------------------------------------------------------------------------
// PromiseWorker

PromiseWorker::PromiseWorker(Napi::Env env, const char* resource_name)
    : PromiseWorker(env, resource_name, Napi::Promise::Deferred::New(env)) {}

PromiseWorker::PromiseWorker(Napi::Env env, const char* resource_name, Napi::Promise::Deferred deferred)
    : Napi::AsyncWorker(env, resource_name), deferred_(std::move(deferred)) {}

void PromiseWorker::Fail(const std::string& message, const char* code) {
  error_code_ = code;
  SetError(message);
}

void PromiseWorker::OnOK() {
  Settling();
  Napi::Env env = Env();
  try {
    deferred_.Resolve(Resolved(env));
  } catch (const Napi::Error& error) {
    // Converting results can only fail on exhausted memory; still settle the promise.
    deferred_.Reject(error.Value());
  }
}

void PromiseWorker::OnError(const Napi::Error& error) {
  Settling();
  Napi::Error rejection = Napi::Error::New(Env(), error.Message());
  if (error_code_ != nullptr) {
    rejection.Set("code", Napi::String::New(Env(), error_code_));
  }
  deferred_.Reject(rejection.Value());
}

// ---------------------------------------------------------------------------
// LoadWorker

LoadWorker::LoadWorker(Napi::Env env, std::string path, whisper_context_params params)
    : PromiseWorker(env, "whisper:load"), path_(std::move(path)), params_(params) {}

LoadWorker::~LoadWorker() {
  // Only set if the JS side never took ownership (e.g. wrapping failed).
  if (ctx_ != nullptr) whisper_free(ctx_);
}

void LoadWorker::Execute() {
  std::error_code ec;
  const auto status = std::filesystem::status(path_, ec);
  if (ec || !std::filesystem::exists(status)) {
    Fail("whisper model file not found: " + path_);
    return;
  }
  if (!std::filesystem::is_regular_file(status)) {
    Fail("whisper model path is not a file: " + path_);
    return;
  }
  size_bytes_ = static_cast<double>(std::filesystem::file_size(path_, ec));
  const std::string problem = CheckModelFile(path_);
  if (!problem.empty()) {
    Fail("invalid whisper model '" + path_ + "': " + problem);
    return;
  }

  ClearThreadErrors();
  // _no_state: every call creates its own state, a default one would only waste memory.
  ctx_ = whisper_init_from_file_with_params_no_state(path_.c_str(), params_);
  if (ctx_ == nullptr) {
    Fail(WithThreadErrors("failed to load whisper model '" + path_ + "'"));
  }
}

Napi::Value LoadWorker::Resolved(Napi::Env env) {
  Napi::Object model = Model::NewInstance(env, ctx_, size_bytes_);
  ctx_ = nullptr;  // owned by the JS object now
  return model;
}

// ---------------------------------------------------------------------------
// FreeWorker

FreeWorker::FreeWorker(Napi::Env env, whisper_context* ctx, Napi::Promise::Deferred deferred)
    : PromiseWorker(env, "whisper:free", std::move(deferred)), ctx_(ctx) {}

void FreeWorker::Execute() {
  whisper_free(ctx_);
  ctx_ = nullptr;
  ReturnFreedMemoryToOs();
}

Napi::Value FreeWorker::Resolved(Napi::Env env) {
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// ModelCallWorker

ModelCallWorker::ModelCallWorker(Napi::Env env, const char* resource_name, Model* model,
                                 Napi::Object model_object, whisper_context* ctx)
    : PromiseWorker(env, resource_name),
      ctx_(ctx),
      model_(model),
      model_ref_(Napi::Persistent(model_object)) {}

ModelCallWorker::~ModelCallWorker() {
  // Covers a worker that never completed normally (e.g. cancelled).
  EndCallOnce();
}

void ModelCallWorker::Settling() {
  EndCallOnce();
}

void ModelCallWorker::EndCallOnce() {
  if (ended_) return;
  ended_ = true;
  model_->EndCall();
}

// ---------------------------------------------------------------------------
// DetectLanguageWorker

DetectLanguageWorker::DetectLanguageWorker(Napi::Env env, Model* model, Napi::Object model_object,
                                           whisper_context* ctx, std::vector<float> pcm, int threads,
                                           int language_count)
    : ModelCallWorker(env, "whisper:detectLanguage", model, model_object, ctx),
      pcm_(std::move(pcm)),
      threads_(threads),
      language_count_(language_count) {}

void DetectLanguageWorker::Execute() {
  ClearThreadErrors();
  StatePtr state = NewState(ctx_);
  if (whisper_pcm_to_mel_with_state(ctx_, state.get(), pcm_.data(), static_cast<int>(pcm_.size()), threads_) != 0) {
    Fail(WithThreadErrors("whisper_pcm_to_mel failed"));
    return;
  }
  std::vector<float> probs(static_cast<size_t>(whisper_lang_max_id()) + 1, 0.0f);
  if (whisper_lang_auto_detect_with_state(ctx_, state.get(), 0, threads_, probs.data()) < 0) {
    Fail(WithThreadErrors("whisper language detection failed"));
    return;
  }
  // whisper.cpp scores all 100 known languages, but models with fewer language
  // tokens score foreign tokens for the extra ones: keep the model's own, renormalised.
  probs.resize(static_cast<size_t>(language_count_));
  double sum = 0;
  for (const float p : probs) sum += p;
  if (sum > 0) {
    for (float& p : probs) p = static_cast<float>(p / sum);
  }
  probs_ = std::move(probs);
}

Napi::Value DetectLanguageWorker::Resolved(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  for (size_t id = 0; id < probs_.size(); ++id) {
    out.Set(whisper_lang_str(static_cast<int>(id)), Napi::Number::New(env, probs_[id]));
  }
  return out;
}

// ---------------------------------------------------------------------------
// TranscribeWorker

void DeliverProgress(Napi::Env env, Napi::Function callback, std::nullptr_t* /*context*/, int* percent) {
  const std::unique_ptr<int> owned(percent);
  // env is null when the environment is shutting down: just drop the update.
  if (env == nullptr || callback.IsEmpty()) return;
  try {
    callback.Call({Napi::Number::New(env, *owned)});
  } catch (const Napi::Error&) {
    // A throwing progress listener must not take the process down; progress is advisory.
  }
}

TranscribeWorker::TranscribeWorker(Napi::Env env, Model* model, Napi::Object model_object,
                                   whisper_context* ctx, std::vector<float> pcm, TranscribeOptions options,
                                   std::shared_ptr<std::atomic<bool>> abort_flag,
                                   std::optional<ProgressFunction> progress)
    : ModelCallWorker(env, "whisper:transcribe", model, model_object, ctx),
      pcm_(std::move(pcm)),
      options_(std::move(options)),
      abort_flag_(std::move(abort_flag)),
      progress_(std::move(progress)) {}

TranscribeWorker::~TranscribeWorker() {
  ReleaseProgress();
}

void TranscribeWorker::ReleaseProgress() {
  if (progress_) {
    progress_->Release();
    progress_.reset();
  }
}

void TranscribeWorker::ReportProgress(int percent) {
  // whisper.cpp computes progress from the seek position, which can overshoot the end.
  percent = std::min(percent, 100);
  if (!progress_ || percent <= last_progress_) return;
  last_progress_ = percent;
  // Non-blocking: whisper.cpp must never wait on the JS thread.
  auto payload = std::make_unique<int>(percent);
  if (progress_->NonBlockingCall(payload.get()) == napi_ok) {
    payload.release();  // DeliverProgress owns it now
  }
}

void TranscribeWorker::OnWhisperProgress(whisper_context* /*ctx*/, whisper_state* /*state*/, int progress,
                                         void* user_data) {
  static_cast<TranscribeWorker*>(user_data)->ReportProgress(progress);
}

bool TranscribeWorker::OnWhisperAbortCheck(void* user_data) {
  return static_cast<std::atomic<bool>*>(user_data)->load(std::memory_order_relaxed);
}

bool TranscribeWorker::OnWhisperEncoderBegin(whisper_context* /*ctx*/, whisper_state* /*state*/,
                                             void* user_data) {
  return !OnWhisperAbortCheck(user_data);
}

void TranscribeWorker::Execute() {
  try {
    Transcribe();
  } catch (...) {
    ReleaseProgress();
    throw;  // AsyncWorker turns std::exception into a rejection
  }
  ReleaseProgress();
}

whisper_full_params TranscribeWorker::DecodingParams() {
  // Start from the greedy defaults like whisper-cli does, so best_of (temperature
  // fallback) matches the CLI and benchmarks compare like with like.
  whisper_full_params params = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
  params.strategy = options_.beam_size > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY;
  params.beam_search.beam_size = options_.beam_size;
  params.greedy.best_of = options_.best_of;
  params.temperature = options_.temperature;
  params.temperature_inc = options_.temperature_inc;
  params.no_speech_thold = options_.no_speech_thold;
  params.n_threads = options_.threads;
  params.language = options_.language.empty() ? "auto" : options_.language.c_str();
  params.detect_language = false;
  params.translate = options_.translate;
  params.no_context = true;  // a fresh state per call: there is no earlier call's text anyway
  params.token_timestamps = true;
  params.print_progress = false;
  params.print_realtime = false;
  params.print_special = false;
  params.print_timestamps = false;

  // Tokenized here (as whisper_full would) so the count is known and reported.
  if (!options_.initial_prompt.empty()) {
    prompt_tokens_.resize(1024);
    int n = whisper_tokenize(ctx_, options_.initial_prompt.c_str(), prompt_tokens_.data(), static_cast<int>(prompt_tokens_.size()));
    if (n < 0) {
      prompt_tokens_.resize(static_cast<size_t>(-n));
      n = whisper_tokenize(ctx_, options_.initial_prompt.c_str(), prompt_tokens_.data(), static_cast<int>(prompt_tokens_.size()));
    }
    prompt_tokens_.resize(static_cast<size_t>(std::max(n, 0)));
  }
  params.prompt_tokens = prompt_tokens_.empty() ? nullptr : prompt_tokens_.data();
  params.prompt_n_tokens = static_cast<int>(prompt_tokens_.size());

  // whisper.cpp always prompts a window with the previous window's text (no_context only drops
  // an earlier call's). Without that: the initial prompt is carried as the static part of every
  // window's prompt and the budget is exactly its length (+ <|startofprev|>), so no decoded text fits.
  if (!options_.condition_on_previous_text) {
    params.carry_initial_prompt = true;
    const int max_prompt = whisper_n_text_ctx(ctx_) / 2;
    params.n_max_text_ctx = prompt_tokens_.empty() ? 0 : std::min(params.prompt_n_tokens + 1, max_prompt);
  }

  used_.translate = params.translate;
  used_.beam_search = params.strategy == WHISPER_SAMPLING_BEAM_SEARCH;
  used_.beam_size = params.beam_search.beam_size;
  used_.best_of = params.greedy.best_of;
  used_.temperature = params.temperature;
  used_.temperature_inc = params.temperature_inc;
  used_.no_speech_thold = params.no_speech_thold;
  used_.no_context = params.no_context;
  used_.carry_initial_prompt = params.carry_initial_prompt;
  used_.n_max_text_ctx = params.n_max_text_ctx;
  used_.n_prompt_tokens = params.prompt_n_tokens;
  used_.language = params.language;
  return params;
}

void TranscribeWorker::Transcribe() {
  const bool aborted_while_queued = abort_flag_->load();
  if (aborted_while_queued) {
    Fail("whisper.cpp decoding was aborted", kAbortedCode);
    return;
  }

  ClearThreadErrors();
  StatePtr state = NewState(ctx_);

  whisper_full_params params = DecodingParams();
  if (progress_) {
    params.progress_callback = OnWhisperProgress;
    params.progress_callback_user_data = this;
  }
  params.abort_callback = OnWhisperAbortCheck;
  params.abort_callback_user_data = abort_flag_.get();
  params.encoder_begin_callback = OnWhisperEncoderBegin;
  params.encoder_begin_callback_user_data = abort_flag_.get();

  const int rc = whisper_full_with_state(ctx_, state.get(), params, pcm_.data(), static_cast<int>(pcm_.size()));
  // An abort surfaces as various return codes (or none): the flag is authoritative.
  if (abort_flag_->load()) {
    Fail("whisper.cpp decoding was aborted", kAbortedCode);
    return;
  }
  if (rc != 0) {
    Fail(WithThreadErrors("whisper_full failed with code " + std::to_string(rc)));
    return;
  }
  CollectResults(state.get());
  ReportProgress(100);
}

void TranscribeWorker::CollectResults(whisper_state* state) {
  const char* language = whisper_lang_str(whisper_full_lang_id_from_state(state));
  language_ = language != nullptr ? language : "";

  // Ids at or above EOT are special (SOT, language, task, timestamps, ...).
  const whisper_token first_special = whisper_token_eot(ctx_);
  const int n_segments = whisper_full_n_segments_from_state(state);
  segments_.reserve(static_cast<size_t>(n_segments));

  for (int i = 0; i < n_segments; ++i) {
    SegmentResult segment;
    segment.t0 = whisper_full_get_segment_t0_from_state(state, i);
    segment.t1 = whisper_full_get_segment_t1_from_state(state, i);
    const char* text = whisper_full_get_segment_text_from_state(state, i);
    segment.text = text != nullptr ? text : "";
    segment.no_speech_prob = whisper_full_get_segment_no_speech_prob_from_state(state, i);

    const int n_tokens = whisper_full_n_tokens_from_state(state, i);
    double plog_sum = 0;
    for (int j = 0; j < n_tokens; ++j) {
      const whisper_token_data data = whisper_full_get_token_data_from_state(state, i, j);
      if (data.id >= first_special) continue;
      TokenResult token;
      token.id = data.id;
      const char* token_text = whisper_token_to_str(ctx_, data.id);
      token.text = token_text != nullptr ? token_text : "";
      token.p = data.p;
      token.plog = data.plog;
      token.t0 = data.t0;
      token.t1 = data.t1;
      plog_sum += data.plog;
      segment.tokens.push_back(std::move(token));
    }
    segment.avg_logprob = segment.tokens.empty() ? 0.0 : plog_sum / static_cast<double>(segment.tokens.size());
    segments_.push_back(std::move(segment));
  }
}

Napi::Value TranscribeWorker::Resolved(Napi::Env env) {
  Napi::Array segments = Napi::Array::New(env, segments_.size());
  for (size_t i = 0; i < segments_.size(); ++i) {
    const SegmentResult& s = segments_[i];
    Napi::Array tokens = Napi::Array::New(env, s.tokens.size());
    for (size_t j = 0; j < s.tokens.size(); ++j) {
      const TokenResult& t = s.tokens[j];
      Napi::Object token = Napi::Object::New(env);
      token.Set("id", Napi::Number::New(env, t.id));
      token.Set("text", Napi::String::New(env, t.text));
      token.Set("p", Napi::Number::New(env, t.p));
      token.Set("plog", Napi::Number::New(env, t.plog));
      token.Set("t0", Napi::Number::New(env, static_cast<double>(t.t0)));
      token.Set("t1", Napi::Number::New(env, static_cast<double>(t.t1)));
      tokens.Set(static_cast<uint32_t>(j), token);
    }
    Napi::Object segment = Napi::Object::New(env);
    segment.Set("t0", Napi::Number::New(env, static_cast<double>(s.t0)));
    segment.Set("t1", Napi::Number::New(env, static_cast<double>(s.t1)));
    segment.Set("text", Napi::String::New(env, s.text));
    segment.Set("noSpeechProb", Napi::Number::New(env, s.no_speech_prob));
    segment.Set("avgLogprob", Napi::Number::New(env, s.avg_logprob));
    segment.Set("tokens", tokens);
    segments.Set(static_cast<uint32_t>(i), segment);
  }
  Napi::Object params = Napi::Object::New(env);
  params.Set("translate", Napi::Boolean::New(env, used_.translate));
  params.Set("strategy", Napi::String::New(env, used_.beam_search ? "beam_search" : "greedy"));
  params.Set("beam_size", Napi::Number::New(env, used_.beam_size));
  params.Set("best_of", Napi::Number::New(env, used_.best_of));
  params.Set("temperature", Napi::Number::New(env, used_.temperature));
  params.Set("temperature_inc", Napi::Number::New(env, used_.temperature_inc));
  params.Set("no_speech_thold", Napi::Number::New(env, used_.no_speech_thold));
  params.Set("no_context", Napi::Boolean::New(env, used_.no_context));
  params.Set("carry_initial_prompt", Napi::Boolean::New(env, used_.carry_initial_prompt));
  params.Set("n_max_text_ctx", Napi::Number::New(env, used_.n_max_text_ctx));
  params.Set("n_prompt_tokens", Napi::Number::New(env, used_.n_prompt_tokens));
  params.Set("language", Napi::String::New(env, used_.language));
  Napi::Object out = Napi::Object::New(env);
  out.Set("language", Napi::String::New(env, language_));
  out.Set("segments", segments);
  out.Set("params", params);
  return out;
}

}  // namespace whisper_addon
