<?php
/**
 * WordPress-like lab stub for wp-includes/script-modules.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'script-modules.php';
