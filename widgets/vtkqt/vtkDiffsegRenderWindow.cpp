#include "vtkDiffsegRenderWindow.h"

#include <vtkObjectFactory.h>

vtkStandardNewMacro(vtkDiffsegRenderWindow)
