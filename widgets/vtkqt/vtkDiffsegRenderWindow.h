#pragma once

#include <vtkGenericOpenGLRenderWindow.h>

/// vtkGenericOpenGLRenderWindow that tells whether VTK finished initialising OpenGL (GLEW) in the
/// context Qt gave it, so that the bridge can fail loudly instead of showing a black view.
/// Follows VTK naming rules because it is a vtkObject.
class vtkDiffsegRenderWindow : public vtkGenericOpenGLRenderWindow
{
public:
    static vtkDiffsegRenderWindow* New();
    vtkTypeMacro(vtkDiffsegRenderWindow, vtkGenericOpenGLRenderWindow)

        bool IsOpenGLInitialized() const
    {
        return this->Initialized;
    }

protected:
    vtkDiffsegRenderWindow() = default;
    ~vtkDiffsegRenderWindow() override = default;

private:
    vtkDiffsegRenderWindow(const vtkDiffsegRenderWindow&) = delete;
    void operator=(const vtkDiffsegRenderWindow&) = delete;
};
