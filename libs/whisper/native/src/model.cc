#include "model.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "workers.h"

namespace whisper_addon {
namespace {

constexpr int kSampleRate = WHISPER_SAMPLE_RATE;
// Language detection only ever looks at one 30 s window.
constexpr size_t kDetectWindowSamples = static_cast<size_t>(WHISPER_CHUNK_SIZE) * kSampleRate;
// Multilingual vocabularies: 51765 text/special tokens, one token per language, then the rest.
constexpr int kVocabBeforeLanguages = 51765;

// Per-environment data (each worker_thread loading the addon gets its own).
struct AddonData {
  Napi::FunctionReference model_constructor;
};

int LanguageCount(whisper_context* ctx) {
  if (!whisper_is_multilingual(ctx)) return 1;
  // Same formula whisper.cpp uses internally (vocab.num_languages()).
  return whisper_model_n_vocab(ctx) - kVocabBeforeLanguages - 1;
}

}  // namespace

Napi::Function Model::DefineClass(Napi::Env env) {
  Napi::Function constructor = ObjectWrap<Model>::DefineClass(
      env, "WhisperModel",
      {
          InstanceMethod<&Model::DetectLanguage>("detectLanguage"),
          InstanceMethod<&Model::Transcribe>("transcribe"),
          InstanceMethod<&Model::Free>("free"),
          InstanceAccessor<&Model::GetIsMultilingual>("isMultilingual"),
          InstanceAccessor<&Model::GetSizeBytes>("sizeBytes"),
          InstanceAccessor<&Model::GetLanguageCount>("languageCount"),
          InstanceAccessor<&Model::GetIsFreed>("isFreed"),
      });
  auto* data = new AddonData();
  data->model_constructor = Napi::Persistent(constructor);
  env.SetInstanceData<AddonData>(data);
  return constructor;
}

Napi::Object Model::NewInstance(Napi::Env env, whisper_context* ctx, double size_bytes) {
  AddonData* data = env.GetInstanceData<AddonData>();
  return data->model_constructor.New(
      {Napi::External<whisper_context>::New(env, ctx), Napi::Number::New(env, size_bytes)});
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() < 2 || !info[0].IsExternal() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "WhisperModel cannot be constructed directly; use loadModel()");
  }
  ctx_ = info[0].As<Napi::External<whisper_context>>().Data();
  size_bytes_ = info[1].As<Napi::Number>().DoubleValue();
  multilingual_ = whisper_is_multilingual(ctx_) != 0;
  language_count_ = LanguageCount(ctx_);
}

Model::~Model() {
  // Garbage-collected without free(). Workers hold a reference to this object,
  // so nothing can be running on the context here.
  if (ctx_ != nullptr) {
    whisper_free(ctx_);
    ctx_ = nullptr;
  }
}

void Model::BeginCall(Napi::Env env) {
  if (free_requested_) {
    Napi::Error error = Napi::Error::New(env, "whisper model has been freed");
    error.Set("code", Napi::String::New(env, kFreedCode));
    throw error;
  }
  ++in_flight_;
}

void Model::EndCall() {
  --in_flight_;
  FreeIfIdle(Env());
}

void Model::FreeIfIdle(Napi::Env env) {
  if (!pending_free_ || in_flight_ > 0) return;
  auto* worker = new FreeWorker(env, ctx_, std::move(*pending_free_));
  pending_free_.reset();
  ctx_ = nullptr;
  worker->Queue();
}

void Model::CheckLanguage(Napi::Env env, const std::string& language) const {
  const int id = whisper_lang_id(language.c_str());
  if (id < 0) {
    throw Napi::RangeError::New(env, "unknown whisper language '" + language + "'");
  }
  if (!multilingual_ && id != 0) {
    throw Napi::RangeError::New(env, "this whisper model is English-only; cannot decode '" + language + "'");
  }
  if (id >= language_count_) {
    throw Napi::RangeError::New(env, "language '" + language + "' is not supported by this whisper model");
  }
}

// detectLanguage(pcm: Float32Array, threads: number, offsetMs: number): Promise<Record<string, number>>
Napi::Value Model::DetectLanguage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Float32Array pcm = RequireFloat32Array(info, 0, "pcm");
  const int threads = RequireInt(info, 1, "threads", 1, kMaxThreads);
  const int offset_ms = RequireInt(info, 2, "offsetMs", 0, INT32_MAX);
  if (!multilingual_) {
    throw Napi::Error::New(env, "language detection needs a multilingual whisper model (this one is English-only)");
  }

  if (pcm.ElementLength() == 0) {
    throw Napi::RangeError::New(env, "pcm is empty");
  }
  const size_t offset = static_cast<size_t>(offset_ms) * (kSampleRate / 1000);
  if (offset >= pcm.ElementLength()) {
    throw Napi::RangeError::New(env, "offsetMs is past the end of the audio");
  }
  // Copy only the window whisper looks at; the rest of a long file is irrelevant.
  const size_t count = std::min(kDetectWindowSamples, pcm.ElementLength() - offset);
  std::vector<float> window(pcm.Data() + offset, pcm.Data() + offset + count);

  BeginCall(env);
  auto* worker =
      new DetectLanguageWorker(env, this, Value(), ctx_, std::move(window), threads, language_count_);
  worker->Queue();
  return worker->Promise();
}

// transcribe(pcm: Float32Array, options): { promise: Promise<RawResult>, abort(): void }
Napi::Value Model::Transcribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Float32Array pcm = RequireFloat32Array(info, 0, "pcm");
  const Napi::Object opts = RequireObject(info, 1, "options");

  TranscribeOptions options;
  options.threads = RequireIntProperty(opts, "threads", 1, kMaxThreads);
  options.beam_size = RequireIntProperty(opts, "beamSize", 1, kMaxBeamSize);
  const std::string language = OptionalStringProperty(opts, "language");
  if (!language.empty() && language != "auto") {
    CheckLanguage(env, language);
    options.language = whisper_lang_str(whisper_lang_id(language.c_str()));
  } else if (!multilingual_) {
    // Detection is meaningless without language tokens.
    options.language = "en";
  }
  options.initial_prompt = OptionalStringProperty(opts, "initialPrompt");
  options.translate = OptionalBoolProperty(opts, "translate", false);
  if (options.translate && !multilingual_) {
    throw Napi::RangeError::New(env, "this whisper model is English-only; it cannot translate");
  }
  options.temperature = OptionalFloatProperty(opts, "temperature", options.temperature, 0.0, 1.0);
  options.temperature_inc = OptionalFloatProperty(opts, "temperatureInc", options.temperature_inc, 0.0, 1.0);
  options.best_of = OptionalIntProperty(opts, "bestOf", options.best_of, 1, kMaxBeamSize);
  options.no_speech_thold = OptionalFloatProperty(opts, "noSpeechThreshold", options.no_speech_thold, 0.0, 1.0);
  options.condition_on_previous_text = OptionalBoolProperty(opts, "conditionOnPreviousText", true);
  const Napi::Value on_progress = opts.Get("onProgress");
  if (!on_progress.IsFunction() && !on_progress.IsUndefined() && !on_progress.IsNull()) {
    throw Napi::TypeError::New(env, "options.onProgress must be a function");
  }
  if (pcm.ElementLength() > static_cast<size_t>(INT32_MAX)) {
    throw Napi::RangeError::New(env, "pcm is too long for whisper.cpp");
  }

  std::vector<float> samples(pcm.Data(), pcm.Data() + pcm.ElementLength());
  auto abort_flag = std::make_shared<std::atomic<bool>>(false);

  // Everything that can fail comes first: once the progress function exists it must be
  // released on every path, or it keeps the event loop alive forever.
  BeginCall(env);
  std::optional<ProgressFunction> progress;
  if (on_progress.IsFunction()) {
    try {
      progress = ProgressFunction::New(env, on_progress.As<Napi::Function>(), "whisper:progress", 0, 1);
    } catch (...) {
      EndCall();
      throw;
    }
  }
  auto* worker = new TranscribeWorker(env, this, Value(), ctx_, std::move(samples), std::move(options), abort_flag,
                                      std::move(progress));
  worker->Queue();

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->Promise());
  handle.Set("abort", Napi::Function::New(
                          env, [abort_flag](const Napi::CallbackInfo&) { abort_flag->store(true); }, "abort"));
  return handle;
}

// free(): Promise<void>; the same promise for every call.
Napi::Value Model::Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!free_requested_) {
    free_requested_ = true;
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    Napi::Object promise = deferred.Promise();
    free_promise_ = Napi::Persistent(promise);
    pending_free_ = deferred;
    FreeIfIdle(env);
  }
  return free_promise_.Value();
}

Napi::Value Model::GetIsMultilingual(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), multilingual_);
}

Napi::Value Model::GetSizeBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), size_bytes_);
}

Napi::Value Model::GetLanguageCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), language_count_);
}

Napi::Value Model::GetIsFreed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), free_requested_);
}

}  // namespace whisper_addon
