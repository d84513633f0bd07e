<?php
/**
 * WordPress-like lab stub for wp-includes/nav-menu-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'nav-menu-template.php';
