#pragma once

// Checking the engine's errors in Qt tests: the kind and the words of a core::Error.

#include "base/Error.h"

#include <QString>
#include <QtTest>

#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>

namespace diffseg::test {

/// Runs `fn`, which must throw core::Error of `kind` whose message contains every fragment.
template <class Fn>
void expectError(Fn&& fn, core::ErrorKind kind, std::initializer_list<const char*> fragments)
{
    try {
        fn();
    } catch (const core::Error& e) {
        QVERIFY2(e.kind() == kind,
                 qPrintable(
                     QString("kind %1 for: %2").arg(core::errorKindName(e.kind())).arg(e.what())));
        for (const char* f : fragments) {
            QVERIFY2(std::strstr(e.what(), f) != nullptr,
                     qPrintable(QString("'%1' not in: %2").arg(f).arg(e.what())));
        }
        return;
    }
    QFAIL("no core::Error thrown");
}

/// The core::Error that `fn` throws, or an Internal error saying that it threw nothing.
template <class Fn>
core::Error expectError(Fn&& fn)
{
    try {
        fn();
    } catch (const core::Error& e) {
        return e;
    }
    return core::Error(core::ErrorKind::Internal, "test", "no exception was thrown");
}

/// The kind of the core::Error that `call` throws, its full message into `message` when given;
/// fails the test (and answers Internal) when it throws nothing.
inline core::ErrorKind kindOf(const std::function<void()>& call, std::string* message = nullptr)
{
    try {
        call();
    } catch (const core::Error& e) {
        if (message != nullptr) {
            *message = e.what();
        }
        return e.kind();
    }
    QTest::qFail("expected a core::Error", __FILE__, __LINE__);
    return core::ErrorKind::Internal;
}

} // namespace diffseg::test
