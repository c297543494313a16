// Argument checks for the JS-facing methods. They throw JS TypeError/RangeError so
// programming mistakes surface as rejected promises in the TypeScript facade.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

namespace whisper_addon {

inline constexpr int kMaxThreads = 1024;
// whisper.cpp runs at most 8 decoders (WHISPER_MAX_DECODERS, not in the public header).
inline constexpr int kMaxBeamSize = 8;

inline Napi::Float32Array RequireFloat32Array(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Float32Array");
  }
  return value.As<Napi::Float32Array>();
}

inline Napi::Object RequireObject(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsObject()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an object");
  }
  return value.As<Napi::Object>();
}

inline int ToBoundedInt(Napi::Env env, const Napi::Value& value, const std::string& name, int min, int max) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(env, name + " must be a number");
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < min || number > max) {
    throw Napi::RangeError::New(env, name + " must be an integer in [" + std::to_string(min) + ", " +
                                         std::to_string(max) + "]");
  }
  return static_cast<int>(number);
}

inline int RequireInt(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max) {
  return ToBoundedInt(info.Env(), info[index], name, min, max);
}

inline int RequireIntProperty(const Napi::Object& object, const char* key, int min, int max) {
  return ToBoundedInt(object.Env(), object.Get(key), std::string("options.") + key, min, max);
}

// Empty string when the property is undefined or null.
inline std::string OptionalStringProperty(const Napi::Object& object, const char* key) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return {};
  if (!value.IsString()) {
    throw Napi::TypeError::New(object.Env(), std::string("options.") + key + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

inline bool OptionalBoolProperty(const Napi::Object& object, const char* key, bool fallback) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsBoolean()) {
    throw Napi::TypeError::New(object.Env(), std::string("options.") + key + " must be a boolean");
  }
  return value.As<Napi::Boolean>().Value();
}

inline float OptionalFloatProperty(const Napi::Object& object, const char* key, float fallback, double min, double max) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(object.Env(), std::string("options.") + key + " must be a number");
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number < min || number > max) {
    throw Napi::RangeError::New(object.Env(), std::string("options.") + key + " must be in [" + std::to_string(min) + ", " +
                                                  std::to_string(max) + "]");
  }
  return static_cast<float>(number);
}

inline int OptionalIntProperty(const Napi::Object& object, const char* key, int fallback, int min, int max) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  return ToBoundedInt(object.Env(), value, std::string("options.") + key, min, max);
}

}  // namespace whisper_addon
