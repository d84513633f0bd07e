<?php
/**
 * WordPress-like lab stub for wp-includes/nav-menu.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'nav-menu.php';
