<?php
/**
 * WordPress-like lab stub for wp-includes/user.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'user.php';
