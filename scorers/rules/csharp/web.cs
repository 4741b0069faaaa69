using System.Web.Mvc;
using Microsoft.AspNet.Identity;

public class AccountController : Controller
{
    // ruleid: pb.csharp.missing-antiforgery-token
    [HttpPost]
    public ActionResult Delete(int id)
    {
        return RedirectToAction("Index");
    }

    // ok: pb.csharp.missing-antiforgery-token
    [HttpPost]
    [ValidateAntiForgeryToken]
    public ActionResult Update(int id)
    {
        return RedirectToAction("Index");
    }

    // ruleid: pb.csharp.request-validation-disabled
    [ValidateInput(false)]
    public ActionResult Save(string html)
    {
        return View();
    }

    // ok: pb.csharp.request-validation-disabled
    [ValidateInput(true)]
    public ActionResult SaveChecked(string html)
    {
        return View();
    }

    public ActionResult Login(string returnUrl)
    {
        if (Url.IsLocalUrl(returnUrl))
        {
            // ok: pb.csharp.open-redirect
            return Redirect(returnUrl);
        }
        // ruleid: pb.csharp.open-redirect
        return Redirect(returnUrl);
    }

    public void ConfigurePasswords(UserManager<IdentityUser> manager)
    {
        // ruleid: pb.csharp.weak-password-policy
        manager.PasswordValidator = new PasswordValidator
        {
            RequiredLength = 6,
            RequireDigit = false,
        };
        // ok: pb.csharp.weak-password-policy
        manager.PasswordValidator = new PasswordValidator
        {
            RequiredLength = 12,
            RequireDigit = true,
        };
    }
}
