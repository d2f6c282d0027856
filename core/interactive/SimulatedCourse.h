#pragma once

// The simulated user's course, for photos (SimulatedUser.cpp) and volumes (SimulatedUser3D.cpp):
// one loop over the clicks for both, so that the two benchmarks count clicks, time and Dice the
// same way. Private to core/interactive's .cpp files.

#include "base/Error.h"
#include "base/Image2D.h"
#include "base/Volume.h"
#include "metrics/ForegroundOverlap.h"

#include <chrono>
#include <optional>

namespace diffseg::core::detail {

inline bool sameGrid(const Image2D& a, const Image2D& b)
{
    return a.width() == b.width() && a.height() == b.height();
}

inline bool sameGrid(const Volume& a, const Volume& b)
{
    return a.size() == b.size();
}

/// Plays the simulated user on `input` against `truth` for `maxClicks` clicks: `method` gives the
/// start (no labels, no clicks), then `nextClick(current, truth)` places each click and `method`
/// answers all clicks so far. Once nothing is left to correct no more clicks are given and the
/// last Dice is carried forward. Error(Mismatch) saying `mismatch` when `method` returns labels
/// on another grid than `truth`'s.
template <class Course, class Input, class Labels, class Method, class NextClick>
Course playCourse(const Input& input, const Labels& truth, int maxClicks, const Method& method,
                  NextClick nextClick, const char* mismatch)
{
    const auto checked = [&](Labels labels) {
        if (!sameGrid(labels, truth)) {
            throw Error(ErrorKind::Mismatch, "interactive method", mismatch);
        }
        return labels;
    };
    Course course;
    Labels current = checked(method(input, Labels(), {}));
    course.dice.push_back(foregroundDice(current, truth));
    for (int k = 1; k <= maxClicks; ++k) {
        const auto click = nextClick(current, truth);
        if (!click) {
            course.dice.push_back(course.dice.back()); // nothing left to correct
            continue;
        }
        course.clicks.push_back(*click);
        const auto start = std::chrono::steady_clock::now();
        current = checked(method(input, current, course.clicks));
        course.clickSeconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        course.dice.push_back(foregroundDice(current, truth));
    }
    return course;
}

} // namespace diffseg::core::detail
